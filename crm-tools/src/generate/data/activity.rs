//! The phrases of deals and activities, and lost reasons.

pub(crate) const DEAL_TOPICS: &[&str] = &[
    "CRM-Anbindung",
    "Lagerverwaltung",
    "Cloud-Umstellung",
    "Predictive Maintenance",
    "ERP-Schnittstelle",
    "Ladeinfrastruktur",
    "Flottenmanagement",
    "Qualitätssicherung",
    "Digitalisierung Einkauf",
    "E-Rechnung",
    "Zeiterfassung",
    "Photovoltaik-Anlage",
    "Produktionslinie 3",
    "Kundenportal",
    "Messestand",
    "Arbeitsschutz",
    "Rechenzentrum",
    "Fuhrpark",
];

/// Lost reasons with weights (keys of the default list).
pub(crate) const LOST_REASONS: &[(&str, u32)] = &[
    ("price", 25),
    ("competitor", 20),
    ("no_budget", 15),
    ("no_decision", 12),
    ("timing", 10),
    ("product_fit", 8),
    ("unresponsive", 7),
    ("other", 3),
];

/// Activity kinds with weights.
pub(crate) const ACTIVITY_KINDS: &[(&str, u32)] = &[
    ("note", 20),
    ("call", 25),
    ("email", 25),
    ("meeting", 10),
    ("task", 12),
    ("followup", 8),
];

pub(crate) const SUBJECTS_NOTE: &[&str] = &[
    "Gesprächsnotiz Bedarfsanalyse",
    "Budget für 2027 noch offen",
    "Entscheidung liegt beim Vorstand",
    "Wettbewerber ist im Haus",
    "Ansprechpartner wechselt zum Jahresende",
    "Interesse an Lizenzerweiterung",
    "Zufrieden mit dem Support",
    "Rückmeldung zur Messe",
];
pub(crate) const SUBJECTS_CALL: &[&str] = &[
    "Rückruf wegen Angebot",
    "Erstgespräch",
    "Telefonat zur Preisverhandlung",
    "Kurze Abstimmung zum Liefertermin",
    "Nachfrage zur Rechnung",
    "Rückruf erbeten",
    "Telefonische Bedarfsklärung",
];
pub(crate) const SUBJECTS_EMAIL: &[&str] = &[
    "Angebot versendet",
    "Vertragsentwurf gesendet",
    "Unterlagen zur Produktdemo",
    "Terminbestätigung",
    "Preisliste 2027",
    "Rückfragen zum Angebot",
    "Einladung zur Hausmesse",
];
pub(crate) const SUBJECTS_MEETING: &[&str] = &[
    "Termin zur Bedarfsanalyse",
    "Produktdemo vor Ort",
    "Jahresgespräch",
    "Workshop Anforderungen",
    "Vertragsverhandlung",
    "Besuch auf der Messe",
    "Projekt-Kick-off",
];
pub(crate) const SUBJECTS_TASK: &[&str] = &[
    "Angebot erstellen",
    "Vertrag prüfen lassen",
    "Referenzen zusammenstellen",
    "Demo-Zugang einrichten",
    "Kalkulation aktualisieren",
    "Unterlagen an Einkauf senden",
];
pub(crate) const SUBJECTS_FOLLOWUP: &[&str] = &[
    "Angebot nachfassen",
    "Nach der Messe nachhaken",
    "Entscheidung erfragen",
    "Wiedervorlage Rahmenvertrag",
    "Nachfassen nach Demo",
];
