//! The contact importer's front half (encoding and delimiter detection, vCard sniffing,
//! CSV parsing, header mapping, row validation) on arbitrary bytes: it must never panic,
//! and every row it reads is either valid or failed.
#![no_main]

use crm_core::import::ImportOptions;
use crm_core::import::contacts::check::check_contacts;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks options, so the fuzzer explores them too.
    let (flags, input) = data.split_first().unwrap_or((&0, data));
    let opts = ImportOptions {
        keep_unknown: flags & 1 != 0,
        delimiter: match (flags >> 1) & 3 {
            1 => Some(b';'),
            2 => Some(b','),
            3 => Some(b'\t'),
            _ => None,
        },
        ..ImportOptions::default()
    };
    let region = if flags & 8 != 0 { "CH" } else { "DE" };
    if let Ok(checked) = check_contacts(input, &opts, region) {
        assert_eq!(checked.rows, checked.valid + checked.failed);
    }
});
