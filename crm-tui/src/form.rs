//! Forms: labelled text fields, one focused, with the field errors crm-core reported shown
//! under their fields.

use crate::app::FormKind;

/// One text field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The name crm-core uses for it in field errors (`title`, `email`, ...).
    pub key: &'static str,
    /// Shown before it.
    pub label: &'static str,
    /// The text.
    pub value: String,
    /// The error from the last save.
    pub error: Option<String>,
}

/// A form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// What it saves.
    pub kind: FormKind,
    /// Its title.
    pub title: String,
    /// The fields, in order.
    pub fields: Vec<Field>,
    /// The focused field.
    pub focus: usize,
    /// A save is running.
    pub saving: bool,
    /// An error that belongs to no field.
    pub error: Option<String>,
}

impl Form {
    /// A form with fields `(key, label, initial value)`.
    pub fn new(
        kind: FormKind,
        title: impl Into<String>,
        fields: &[(&'static str, &'static str, String)],
    ) -> Self {
        Self {
            kind,
            title: title.into(),
            fields: fields
                .iter()
                .map(|(key, label, value)| Field {
                    key,
                    label,
                    value: value.clone(),
                    error: None,
                })
                .collect(),
            focus: 0,
            saving: false,
            error: None,
        }
    }

    /// The value of field `key` (empty when there is none).
    pub fn value(&self, key: &str) -> &str {
        self.fields
            .iter()
            .find(|f| f.key == key)
            .map_or("", |f| f.value.as_str())
    }

    /// Shows crm-core's field errors under their fields; errors on unknown fields (or on
    /// the record as a whole) go to the form's own line.
    pub fn set_errors(&mut self, errors: &[(String, String)]) {
        for f in &mut self.fields {
            f.error = None;
        }
        self.error = None;
        let mut other = Vec::new();
        for (field, message) in errors {
            match self
                .fields
                .iter_mut()
                .find(|f| f.key == field || field.starts_with(&format!("{}.", f.key)))
            {
                Some(f) => f.error = Some(message.clone()),
                None => other.push(format!("{field}: {message}")),
            }
        }
        if !other.is_empty() {
            self.error = Some(other.join("; "));
        }
        if let Some(first) = self.fields.iter().position(|f| f.error.is_some()) {
            self.focus = first;
        }
        self.saving = false;
    }

    /// Focus on the next field (wrapping).
    pub fn next(&mut self) {
        self.focus = (self.focus + 1) % self.fields.len().max(1);
    }

    /// Focus on the previous field (wrapping).
    pub fn prev(&mut self) {
        let n = self.fields.len().max(1);
        self.focus = (self.focus + n - 1) % n;
    }

    /// Types a character into the focused field.
    pub fn push(&mut self, c: char) {
        if let Some(f) = self.fields.get_mut(self.focus) {
            f.value.push(c);
            f.error = None;
        }
    }

    /// Deletes the last character of the focused field.
    pub fn pop(&mut self) {
        if let Some(f) = self.fields.get_mut(self.focus) {
            f.value.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_land_under_their_fields_and_focus_the_first() {
        let mut form = Form::new(
            FormKind::NewContact,
            "New contact",
            &[
                ("first_name", "First name", String::new()),
                ("email", "E-mail", "x@".into()),
            ],
        );
        form.set_errors(&[
            ("email".into(), "is not a valid e-mail address".into()),
            ("record".into(), "violates a rule".into()),
        ]);
        assert_eq!(
            form.fields[1].error.as_deref(),
            Some("is not a valid e-mail address")
        );
        assert_eq!(form.fields[0].error, None);
        assert_eq!(form.focus, 1);
        assert_eq!(form.error.as_deref(), Some("record: violates a rule"));
        form.push('a');
        assert_eq!(form.value("email"), "x@a");
        assert_eq!(
            form.fields[1].error, None,
            "typing clears the field's error"
        );
    }
}
