/* The payment step of a pledge: saves a card or SEPA debit mandate with Stripe.js (SetupIntent), then posts
   the page's form so that the server asks the provider what happened (it never trusts this script's word).
   Everything comes from data- attributes of #payment-form: no inline script, the CSP stays strict. */
(function () {
  "use strict";

  var form = document.getElementById("payment-form");
  if (!form || typeof window.Stripe !== "function") {
    return;
  }
  var data = form.dataset;
  var stripe = window.Stripe(data.publishableKey);
  var status = document.getElementById("payment-status");
  var button = form.querySelector("button[type=submit]");
  var mount = form.querySelector("[data-card-element]");
  var card = null;

  if (mount) {
    card = stripe.elements().create("card");
    card.mount(mount);
  }

  function setup() {
    if (data.method === "sepa_debit") {
      var holder = document.getElementById("account-holder");
      return stripe.confirmSepaDebitSetup(data.clientSecret, {
        payment_method: {
          sepa_debit: {iban: form.querySelector("[data-iban]").value.replace(/\s+/g, "")},
          billing_details: {name: holder ? holder.value : data.billingName, email: data.billingEmail}
        }
      });
    }
    return stripe.confirmCardSetup(data.clientSecret, {payment_method: {card: card}});
  }

  form.addEventListener("submit", function (event) {
    if (!card && !form.querySelector("[data-iban]")) {
      return; // already saved: post the confirmation as it is
    }
    event.preventDefault();
    button.disabled = true;
    status.textContent = data.workingText || "";
    setup().then(function (result) {
      if (result && result.error) {
        form.elements.client_error.value = String(result.error.message || "").slice(0, 200);
      }
      form.submit(); // the server re-fetches the SetupIntent and decides
    }, function (error) {
      form.elements.client_error.value = String((error && error.message) || error).slice(0, 200);
      form.submit();
    });
  });
})();
