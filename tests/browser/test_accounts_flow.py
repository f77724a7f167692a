from urllib.parse import urlsplit

from playwright.sync_api import expect


def test_new_user_registers_logs_in_switches_to_english_and_logs_out(page, live_server, requests_seen):
    page.goto(f"{live_server}/")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.get_by_role("link", name="Registrieren").first.click()
    page.get_by_label("Name").fill("Greta Gärtner")
    page.get_by_label("E-Mail-Adresse").fill("greta@example.org")
    page.get_by_label("Passwort", exact=True).fill("sehr geheimes passwort")
    page.get_by_label("Passwort wiederholen").fill("sehr geheimes passwort")
    page.get_by_role("button", name="Konto anlegen").click()
    expect(page.get_by_role("status")).to_contain_text("Greta Gärtner")

    page.get_by_role("button", name="Abmelden").click()
    page.get_by_role("link", name="Anmelden").first.click()
    page.get_by_label("E-Mail-Adresse").fill("greta@example.org")
    page.get_by_label("Passwort").fill("sehr geheimes passwort")
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("status")).to_contain_text("Sie sind angemeldet")

    page.get_by_label("Sprache").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_contain_text("You are logged out")
    expect(page.get_by_role("link", name="Log in").first).to_be_visible()

    hosts = {urlsplit(url).hostname for url in requests_seen if url.startswith("http")}
    assert hosts == {"127.0.0.1"}, requests_seen
