//! Vocabulary values travel to and from the database as themselves: each type binds as its
//! stored key (a `text` column with a CHECK constraint) and decodes from it, so queries bind
//! `status`, not `status.as_str()`, and rows hold typed fields instead of strings parsed
//! afterwards. A key the type does not know is a decode error (a corrupt row), never a
//! silent default.

use sqlx::Postgres;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueRef};

use crate::auth::Visibility;
use crate::domain::{
    ActivityType, CompanySize, ConsentStatus, ContactSource, DealStatus, EmailKind, EntityStatus,
    OwnerRole, PhoneKind, UserRole,
};

/// Implements `Type`, `Encode`, `Decode` and `PgHasArrayType` for types with `as_str` and
/// `from_key`, as `text`.
macro_rules! text_key {
    ($($t:ty),+ $(,)?) => {$(
        impl sqlx::Type<Postgres> for $t {
            fn type_info() -> PgTypeInfo {
                <&str as sqlx::Type<Postgres>>::type_info()
            }

            fn compatible(ty: &PgTypeInfo) -> bool {
                <&str as sqlx::Type<Postgres>>::compatible(ty)
            }
        }

        impl PgHasArrayType for $t {
            fn array_type_info() -> PgTypeInfo {
                <&str as PgHasArrayType>::array_type_info()
            }

            fn array_compatible(ty: &PgTypeInfo) -> bool {
                <&str as PgHasArrayType>::array_compatible(ty)
            }
        }

        impl sqlx::Encode<'_, Postgres> for $t {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&str as sqlx::Encode<'_, Postgres>>::encode(self.as_str(), buf)
            }
        }

        impl<'r> sqlx::Decode<'r, Postgres> for $t {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                let key = <&str as sqlx::Decode<'r, Postgres>>::decode(value)?;
                <$t>::from_key(key).ok_or_else(|| {
                    format!(concat!("unknown ", stringify!($t), " key in the database")).into()
                })
            }
        }
    )+};
}

text_key!(
    ActivityType,
    CompanySize,
    ConsentStatus,
    ContactSource,
    DealStatus,
    EmailKind,
    EntityStatus,
    OwnerRole,
    PhoneKind,
    UserRole,
    Visibility,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_reads_back_as_its_value_and_unknown_keys_do_not() {
        for v in EntityStatus::ALL {
            assert_eq!(EntityStatus::from_key(v.as_str()), Some(*v));
        }
        for v in UserRole::ALL {
            assert_eq!(UserRole::from_key(v.as_str()), Some(*v));
        }
        for v in Visibility::ALL {
            assert_eq!(Visibility::from_key(v.as_str()), Some(*v));
        }
        // Labels are for people: the database holds keys only.
        assert_eq!(UserRole::from_key("Read only"), None);
        assert_eq!(EntityStatus::from_key("ACTIVE"), None);
    }
}
