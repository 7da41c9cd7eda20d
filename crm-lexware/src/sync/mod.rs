//! The sync between the CRM and Lexware Office.
