//! Files that hold personal data are created 0600 (folders 0700) and never written through
//! a symbolic link planted at their path (issue 14, item 10): exports, subject exports and
//! their CSV bundles, organization exports, backups, saved erasure receipts and import
//! error files.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use crm_core::testing::TestDb;

use crate::support::{crm, crm_with};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "crm-private-{}-{name}-{}",
        std::process::id(),
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    // The usual umask would leave new files 0644; the folder itself must not hide that.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

/// A file someone else could read, and a link to it where the CRM is told to write.
fn plant_link(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let victim = dir.join(format!("{name}.victim"));
    std::fs::write(&victim, "not yours").unwrap();
    let link = dir.join(name);
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    (link, victim)
}

async fn setup() -> TestDb {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            "Geheim GmbH",
            "--admin-email",
            "admin@geheim.test",
            "--no-password",
        ],
    )
    .expect(0);
    crm(
        &db,
        &[
            "contact",
            "add",
            "--first-name",
            "Ida",
            "--last-name",
            "Quast",
            "--email",
            "ida@geheim.test",
        ],
    )
    .expect(0);
    db
}

#[tokio::test]
async fn every_file_with_personal_data_is_0600_and_no_planted_link_is_followed() {
    let db = setup().await;
    let dir = scratch("all");
    let p = |name: &str| dir.join(name);
    let s = |p: &Path| p.to_str().unwrap().to_string();

    // Export.
    let export = p("contacts.csv");
    crm(&db, &["export", "contacts", "--out", &s(&export)]).expect(0);
    assert_eq!(mode(&export), 0o600, "export");
    assert!(std::fs::read_to_string(&export).unwrap().contains("Quast"));
    // An existing world-readable file is narrowed when it is overwritten.
    std::fs::set_permissions(&export, std::fs::Permissions::from_mode(0o644)).unwrap();
    crm(&db, &["export", "contacts", "--out", &s(&export)]).expect(0);
    assert_eq!(mode(&export), 0o600, "overwritten export");

    // Subject export with its CSV bundle.
    let subject = p("ida.json");
    let bundle = p("ida-csv");
    crm(
        &db,
        &[
            "gdpr",
            "export",
            "--contact",
            "ida@geheim.test",
            "--out",
            &s(&subject),
            "--csv-dir",
            &s(&bundle),
        ],
    )
    .expect(0);
    assert_eq!(mode(&subject), 0o600, "subject export");
    assert_eq!(mode(&bundle), 0o700, "subject export bundle");
    for f in std::fs::read_dir(&bundle).unwrap() {
        let f = f.unwrap().path();
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }

    // Organization export.
    let org = p("org");
    crm(&db, &["gdpr", "org-export", "--out", &s(&org)]).expect(0);
    assert_eq!(mode(&org), 0o700, "organization export");
    let mut files = 0;
    for f in std::fs::read_dir(&org).unwrap() {
        let f = f.unwrap().path();
        assert_eq!(mode(&f), 0o600, "{}", f.display());
        files += 1;
    }
    assert!(files > 2, "{files} files");

    // Backup.
    let backup = p("crm.dump");
    crm(&db, &["db", "backup", "--out", &s(&backup)]).expect(0);
    assert_eq!(mode(&backup), 0o600, "backup");

    // Saved erasure receipts (and keys).
    let receipts = p("erasures.json");
    crm(&db, &["gdpr", "save-erasures", "--out", &s(&receipts)]).expect(0);
    assert_eq!(mode(&receipts), 0o600, "erasure receipts");

    // Import error file.
    let input = p("in.csv");
    std::fs::write(&input, "Vorname;Nachname;E-Mail\nX;Y;kaputt\n").unwrap();
    let errors = p("errors.csv");
    crm(
        &db,
        &["import", "contacts", &s(&input), "--errors", &s(&errors)],
    )
    .expect(5);
    assert_eq!(mode(&errors), 0o600, "import error file");

    // A link planted at each path is refused, and what it points at stays as it was.
    let refused: Vec<(&str, Vec<String>)> = vec![
        (
            "export.csv",
            vec!["export".into(), "contacts".into(), "--out".into()],
        ),
        (
            "subject.json",
            vec![
                "gdpr".into(),
                "export".into(),
                "--contact".into(),
                "ida@geheim.test".into(),
                "--out".into(),
            ],
        ),
        (
            "backup.dump",
            vec!["db".into(), "backup".into(), "--out".into()],
        ),
        (
            "receipts.json",
            vec!["gdpr".into(), "save-erasures".into(), "--out".into()],
        ),
    ];
    for (name, args) in refused {
        let (link, victim) = plant_link(&dir, name);
        let mut all: Vec<String> = vec!["--format".into(), "json".into()];
        all.extend(args);
        all.push(s(&link));
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let run = crm_with(Some(&db), &all, "", &[]);
        assert_ne!(run.code, 0, "{name}: {run:?}");
        assert_eq!(
            std::fs::read_to_string(&victim).unwrap(),
            "not yours",
            "{name}"
        );
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink(),
            "{name}"
        );
    }
    let (link, victim) = plant_link(&dir, "errors-link.csv");
    let run = crm(
        &db,
        &["import", "contacts", &s(&input), "--errors", &s(&link)],
    );
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "not yours");
    std::fs::remove_dir_all(&dir).ok();
}
