/* The backer's fix-the-payment page (templates/payments/pay.html).
   authenticate: confirm the existing PaymentIntent with 3-D Secure (stripe.confirmCardPayment).
   new_card: save a new card with the page's SetupIntent (stripe.confirmCardSetup), let the server charge it,
   and run 3-D Secure if the bank asks. Afterwards the page always asks the server to look at the
   PaymentIntent itself: nothing the browser reports marks a pledge as paid. */
(function () {
  "use strict";
  var root = document.getElementById("fix-payment");
  if (!root) return;
  var status = document.getElementById("fix-payment-status");
  var complete = document.getElementById("fix-payment-complete");
  function say(text) { status.textContent = text || ""; }
  if (typeof Stripe === "undefined") { say(root.dataset.msgUnavailable); return; }
  var stripe = Stripe(root.dataset.publishableKey);

  async function authenticate(clientSecret, paymentMethod) {
    say(root.dataset.msgWorking);
    var result = paymentMethod
      ? await stripe.confirmCardPayment(clientSecret, {payment_method: paymentMethod})
      : await stripe.confirmCardPayment(clientSecret);
    if (result.error) say(result.error.message);
    complete.submit();
  }

  var authButton = document.getElementById("fix-payment-authenticate");
  if (authButton) {
    authButton.addEventListener("click", function () {
      authButton.disabled = true;
      authenticate(root.dataset.clientSecret, root.dataset.paymentMethod);
    });
  }

  var form = document.getElementById("fix-payment-card-form");
  if (form) {
    var card = stripe.elements().create("card");
    card.mount("#fix-payment-card");
    var button = form.querySelector("button[type=submit]");
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      button.disabled = true;
      say(root.dataset.msgWorking);
      var setup = await stripe.confirmCardSetup(root.dataset.setupSecret, {payment_method: {card: card}});
      if (setup.error) {
        say(setup.error.message);
        button.disabled = false;
        return;
      }
      var response = await fetch(root.dataset.cardUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": root.dataset.csrfToken},
        body: JSON.stringify({setup_intent_id: setup.setupIntent.id})
      });
      var body = await response.json().catch(function () { return {}; });
      if (body.status === "requires_action" && body.client_secret) {
        await authenticate(body.client_secret, null);
        return;
      }
      complete.submit();
    });
  }
})();
