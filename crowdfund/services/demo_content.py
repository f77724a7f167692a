"""The demo's texts: pitches, teams, rewards and updates, in the voice of the Smart Kassel strategy."""

from __future__ import annotations

from typing import NamedTuple


class Pitch(NamedTuple):
    title: str
    district: str
    category: str
    threshold_eur: int
    goal_eur: int | None
    days_to_deadline: int  # negative: the campaign has ended
    state: str
    pitch: str


class DemoReward(NamedTuple):
    title: str
    description: str
    min_eur: int
    quantity: int | None  # None: unlimited
    delivery_in_months: int


class DemoUpdate(NamedTuple):
    title: str
    body: str  # Markdown
    days_ago: int


PITCHES: tuple[Pitch, ...] = (
    Pitch("Reparaturstation am Kulturbahnhof", "Mitte", "mobility", 2500, 4000, 40, "live",
          "Eine offene Fahrrad-Reparaturstation mit Werkzeug, Luftpumpe und QR-Anleitungen – rund um die Uhr "
          "für alle, die in Kassel mit dem Rad unterwegs sind."),
    Pitch("Sensorboxen für gute Luft in Bettenhausen", "Bettenhausen", "digital", 3000, 5000, 55, "live",
          "Zwanzig selbstgebaute Messboxen zeigen offen und in Echtzeit, wie es um Feinstaub und Lärm in "
          "unserem Stadtteil steht – gebaut gemeinsam mit der Schule am Lindenberg."),
    Pitch("Digitale Sprechstunde für Ältere im Wesertor", "Wesertor", "education", 1800, None, 30, "live",
          "Jugendliche erklären Seniorinnen und Senioren jeden Mittwoch Smartphone, Online-Termine und "
          "Videotelefonie – in der Stadtteilbibliothek, kostenlos und geduldig."),
    Pitch("Gemeinschaftsgarten am Fuldaufer", "Unterneustadt", "environment", 4200, 6000, 70, "live",
          "Hochbeete, ein Regenwassertank und eine Tauschbörse für Saatgut machen aus einer Brachfläche am "
          "Fuldaufer einen Garten für die ganze Nachbarschaft."),
    Pitch("Nachbarschaftswerkstatt Rothenditmold", "Rothenditmold", "neighbourhood", 5000, 8000, -10, "funded",
          "Eine offene Werkstatt mit 3D-Drucker, Nähmaschinen und Werkbänken, in der Nachbarinnen und "
          "Nachbarn reparieren, bauen und voneinander lernen."),
    Pitch("Klangpfad im Bergpark", "Bad Wilhelmshöhe", "culture", 6000, None, -20, "not_funded",
          "Zwölf Hörstationen erzählen mit Stimmen aus Kassel die Geschichte des Bergparks – per QR-Code "
          "auf dem eigenen Telefon, barrierearm und mehrsprachig."),
)

DESCRIPTION = (
    "## Worum es geht\n\n{pitch}\n\n## Warum in {district}?\n\nSmart Kassel²³ heißt: die Stadt in jedem "
    "der 23 Stadtteile gemeinsam smarter machen – technisch, sozial und vor allem kreativ. Unsere Idee "
    "kommt aus Bürgerhand und soll im Stadtteil sichtbar werden.\n\n## Was mit dem Geld passiert\n\n"
    "- Material und Ausstattung\n- Aufbau gemeinsam mit Freiwilligen\n- Betrieb im ersten Jahr\n"
)

TEAMS: dict[str, tuple[tuple[str, str], ...]] = {
    "Reparaturstation am Kulturbahnhof": (
        ("Lea Brandt", "Idee und Koordination"), ("Murat Yılmaz", "Fahrradmechaniker")),
    "Sensorboxen für gute Luft in Bettenhausen": (
        ("Jonas Weber", "Umweltinformatik, Universität Kassel"), ("Sophie Krämer", "Lehrerin, Schule am Lindenberg")),
    "Digitale Sprechstunde für Ältere im Wesertor": (
        ("Amira Haddad", "Stadtteilbibliothek Wesertor"), ("Tim Schubert", "Jugendgruppe Digitalhelfer")),
    "Gemeinschaftsgarten am Fuldaufer": (
        ("Greta Hoffmann", "Gartenplanung"), ("Karl-Heinz Müller", "Nachbarschaftsverein Unterneustadt")),
    "Nachbarschaftswerkstatt Rothenditmold": (
        ("Nina Petrović", "Werkstattleitung"), ("Ole Jansen", "3D-Druck und Elektronik")),
    "Klangpfad im Bergpark": (
        ("Clara Vogt", "Klangkunst und Aufnahmen"), ("Bernd Schäfer", "Geschichtsverein Wilhelmshöhe")),
}

REWARDS: dict[str, tuple[DemoReward, ...]] = {
    "Reparaturstation am Kulturbahnhof": (
        DemoReward("Dankeschön-Postkarte", "Eine gezeichnete Postkarte der Station mit Gruß vom Team.", 10, None, 2),
        DemoReward("Flickzeug-Set mit Kassel-Aufdruck", "Reifenheber, Flicken und Kleber im Stofftäschchen.",
                   25, 20, 3),
        DemoReward("Ihr Name an der Station", "Eine Plakette an der Station nennt alle Unterstützenden dieser "
                   "Stufe.", 100, 10, 5),
    ),
    "Sensorboxen für gute Luft in Bettenhausen": (
        DemoReward("Messwerte im Newsletter", "Einmal im Monat: was die Boxen gemessen haben, verständlich "
                   "erklärt.", 15, None, 1),
        DemoReward("Workshop-Platz: Messbox selbst löten", "Ein Samstag in der Schulwerkstatt, Material "
                   "inklusive.", 40, 12, 3),
        DemoReward("Bausatz für die eigene Messbox", "Alle Teile und eine Anleitung für den eigenen Balkon.",
                   60, 20, 4),
    ),
    "Digitale Sprechstunde für Ältere im Wesertor": (
        DemoReward("Dank im Stadtteilblatt", "Wir nennen Sie – wenn Sie möchten – in der nächsten Ausgabe.", 5,
                   None, 2),
        DemoReward("Patenschaft für einen Mittwoch", "Sie ermöglichen einen ganzen Sprechstunden-Nachmittag.",
                   50, 20, 2),
    ),
    "Gemeinschaftsgarten am Fuldaufer": (
        DemoReward("Saatgut aus dem Garten", "Samentütchen aus der ersten Ernte, von Hand beschriftet.", 10,
                   None, 8),
        DemoReward("Einladung zum Erntefest für zwei", "Suppe, Musik und Führung durch die Beete.", 35, 20, 9),
        DemoReward("Ein Hochbeet für eine Saison", "Ein Beet nur für Sie oder Ihre Kita-Gruppe.", 120, 8, 5),
    ),
    "Nachbarschaftswerkstatt Rothenditmold": (
        DemoReward("Kurs: Reparieren lernen", "Drei Abende mit dem Werkstatt-Team.", 30, 20, 2),
        DemoReward("Jahreskarte der Werkstatt", "Ein Jahr lang freie Nutzung aller Geräte.", 80, None, 1),
    ),
    "Klangpfad im Bergpark": (
        DemoReward("Premiere mit Führung", "Der erste Rundgang mit allen Stimmen des Klangpfads.", 20, None, 6),
        DemoReward("Pate einer Hörstation", "Ihre Station, Ihr Name im Abspann.", 75, 12, 6),
    ),
}

UPDATES: dict[str, tuple[DemoUpdate, ...]] = {
    "Reparaturstation am Kulturbahnhof": (
        DemoUpdate("Der Standort steht fest", "Gute Nachrichten aus Mitte: Der Kulturbahnhof stellt uns die "
                   "Fläche neben dem Fahrradparkhaus zur Verfügung.\n\nDanke an alle, die uns in den ersten "
                   "Tagen unterstützt haben – **Kassel ist smart**, smarter als vielen von uns bekannt ist.", 12),
        DemoUpdate("Werkzeugliste zum Mitreden", "Welche Werkzeuge fehlen euch unterwegs am meisten? Unsere "
                   "erste Liste:\n\n- Reifenheber und Flickzeug\n- Drehmomentschlüssel\n- Kettennieter\n\n"
                   "Schreibt uns bis Ende des Monats, was noch dazugehört.", 3),
    ),
    "Sensorboxen für gute Luft in Bettenhausen": (
        DemoUpdate("Der erste Prototyp misst", "Im Denklabor an der Schule am Lindenberg haben Schülerinnen "
                   "und Schüler die erste Messbox gelötet. Seit Montag sendet sie Feinstaubwerte – die offene "
                   "Karte dazu geht mit der Kampagne online.", 8),
    ),
    "Digitale Sprechstunde für Ältere im Wesertor": (
        DemoUpdate("Zwölf Jugendliche sind dabei", "Zwölf Jugendliche aus dem Wesertor haben sich als "
                   "Digitalhelferinnen und -helfer gemeldet. Technisch, sozial und vor allem geduldig: So "
                   "machen wir unseren Stadtteil gemeinsam smarter.", 5),
    ),
    "Gemeinschaftsgarten am Fuldaufer": (
        DemoUpdate("Die Brachfläche ist frei", "Am Samstag haben dreißig Nachbarinnen und Nachbarn die Fläche "
                   "am Fuldaufer entrümpelt. Als Nächstes planen wir die Hochbeete – kommt vorbei!", 6),
    ),
    "Nachbarschaftswerkstatt Rothenditmold": (
        DemoUpdate("Geschafft – danke, Rothenditmold!", "Die Schwelle ist erreicht, die Werkstatt kommt. "
                   "Innovation aus Bürgerhand, finanziert von euch: Das ist Crowdfunding, wie wir es uns "
                   "gewünscht haben.", 9),
        DemoUpdate("Die ersten Werkbänke stehen", "Drei Werkbänke und zwei Nähmaschinen sind aufgebaut. "
                   "Die Termine der ersten Kurse stehen bald hier.", 2),
    ),
    "Klangpfad im Bergpark": (
        DemoUpdate("Wie es weitergeht", "Die Schwelle haben wir nicht erreicht, deshalb wird niemand belastet. "
                   "Aufgeben wollen wir nicht: Mit dem Bürgerrat Smart Kassel suchen wir nach einem kleineren "
                   "ersten Schritt.", 15),
    ),
}


# --- demo pledges (only with a payment provider: see crowdfund.services.demo.seed_demo_pledges) ------------

# A campaign whose deadline passed yesterday with its threshold reached by the demo pledges below, so that
# `flask --app wsgi settle` right after `make run` funds it and charges them.
ENDED_PITCH = Pitch("Trinkbrunnen am Königsplatz", "Mitte", "environment", 300, 500, -1, "live",
                    "Ein Trinkbrunnen mit Kasseler Leitungswasser am Königsplatz – kostenlos für alle, gegen "
                    "Plastikflaschen und für heiße Sommertage in der Innenstadt.")
ENDED_TEAM = (("Paula Richter", "Idee und Koordination"), ("Deniz Aydın", "Kontakt zu den Städtischen Werken"))
ENDED_REWARDS = (DemoReward("Trinkflasche mit Stadtwappen", "Eine Edelstahlflasche zum Auffüllen am Brunnen.",
                            40, 15, 4),)

# Demo backers (they can log in, password in the seed report); the existing "unterstuetzer@" backer too.
DEMO_BACKER_PASSWORD = "demo-backer-2027"  # noqa: S105 - a published demo login
DEMO_BACKERS: tuple[tuple[str, str], ...] = (
    ("mara@demo.crowdfunding-kassel.de", "Mara Schulze"),
    ("emil@demo.crowdfunding-kassel.de", "Emil Wagner"),
    ("selin@demo.crowdfunding-kassel.de", "Selin Kaya"),
    ("jakob@demo.crowdfunding-kassel.de", "Jakob Neumann"),
)
CARD_OK = "4242424242424242"
CARD_DECLINED_AT_CHARGE = "4000000000000341"  # saved fine; the charge at settlement is declined


TEAMS[ENDED_PITCH.title] = ENDED_TEAM
REWARDS[ENDED_PITCH.title] = ENDED_REWARDS
UPDATES[ENDED_PITCH.title] = (
    DemoUpdate("Die Schwelle ist erreicht!", "Danke an alle Unterstützenden: Der Brunnen kommt. Sobald die "
               "Zahlungen eingegangen sind, bestellen wir die Brunnensäule.", 1),
)


class DemoPledge(NamedTuple):
    backer_email: str
    project_title: str
    amount_eur: int
    reward_title: str | None
    card: str


DEMO_PLEDGES: tuple[DemoPledge, ...] = (
    # the ended campaign: 340 EUR of 300 EUR from cards that pay, plus one that is declined at the charge
    DemoPledge("mara@demo.crowdfunding-kassel.de", ENDED_PITCH.title, 120, "Trinkflasche mit Stadtwappen", CARD_OK),
    DemoPledge("emil@demo.crowdfunding-kassel.de", ENDED_PITCH.title, 100, None, CARD_OK),
    DemoPledge("selin@demo.crowdfunding-kassel.de", ENDED_PITCH.title, 70, "Trinkflasche mit Stadtwappen", CARD_OK),
    DemoPledge("jakob@demo.crowdfunding-kassel.de", ENDED_PITCH.title, 50, None, CARD_OK),
    DemoPledge("unterstuetzer@demo.crowdfunding-kassel.de", ENDED_PITCH.title, 25, None, CARD_DECLINED_AT_CHARGE),
    # running campaigns
    DemoPledge("mara@demo.crowdfunding-kassel.de", "Reparaturstation am Kulturbahnhof", 25,
               "Flickzeug-Set mit Kassel-Aufdruck", CARD_OK),
    DemoPledge("emil@demo.crowdfunding-kassel.de", "Reparaturstation am Kulturbahnhof", 50, None, CARD_OK),
    DemoPledge("selin@demo.crowdfunding-kassel.de", "Sensorboxen für gute Luft in Bettenhausen", 40,
               "Workshop-Platz: Messbox selbst löten", CARD_OK),
    DemoPledge("unterstuetzer@demo.crowdfunding-kassel.de", "Gemeinschaftsgarten am Fuldaufer", 35,
               "Einladung zum Erntefest für zwei", CARD_OK),
)
