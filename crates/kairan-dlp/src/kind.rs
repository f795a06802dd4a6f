//! The kinds of sensitive data the scanner reports, with their stable codes and labels.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A category of personal or confidential data.
///
/// Serialized as its snake_case [`Kind::code`], which is the stable identifier
/// used in policies, audit logs and the wire protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// 個人番号 (My Number), 12 digits with a check digit.
    MyNumber,
    /// 法人番号, 13 digits with a leading check digit.
    CorporateNumber,
    /// 住民票コード, 11 digits, reported only next to its label (住民票コード).
    ///
    /// The last digit is a check digit defined by 平成14年総務省告示第436号, but its
    /// exact formula could not be confirmed from a primary source while this crate was
    /// written, so no check digit is applied: context alone decides. Applying a guessed
    /// formula would silently drop real codes if the guess were wrong.
    ResidentRecordCode,
    /// 基礎年金番号, 4+6 digits, reported only next to its label.
    BasicPensionNumber,
    /// 在留カード番号, e.g. `AB12345678CD`.
    ResidenceCardNumber,
    /// Japanese fixed, mobile, IP and free-dial telephone numbers.
    PhoneNumber,
    /// 郵便番号 next to 〒 or an address label.
    PostalCode,
    /// A street address down to block numbers.
    Address,
    /// A date in a birth context.
    BirthDate,
    /// A bank account number next to banking words.
    BankAccount,
    /// A Luhn-valid payment card number.
    CreditCard,
    /// 旅券番号 next to its label.
    PassportNumber,
    /// 運転免許証番号 next to its label.
    DriversLicenseNumber,
    /// An e-mail address.
    Email,
    /// A configured confidentiality keyword such as 極秘.
    Keyword,
}

impl Kind {
    /// Every kind, in declaration order.
    pub const ALL: [Kind; 15] = [
        Kind::MyNumber,
        Kind::CorporateNumber,
        Kind::ResidentRecordCode,
        Kind::BasicPensionNumber,
        Kind::ResidenceCardNumber,
        Kind::PhoneNumber,
        Kind::PostalCode,
        Kind::Address,
        Kind::BirthDate,
        Kind::BankAccount,
        Kind::CreditCard,
        Kind::PassportNumber,
        Kind::DriversLicenseNumber,
        Kind::Email,
        Kind::Keyword,
    ];

    /// The stable snake_case identifier.
    pub fn code(self) -> &'static str {
        match self {
            Kind::MyNumber => "my_number",
            Kind::CorporateNumber => "corporate_number",
            Kind::ResidentRecordCode => "resident_record_code",
            Kind::BasicPensionNumber => "basic_pension_number",
            Kind::ResidenceCardNumber => "residence_card_number",
            Kind::PhoneNumber => "phone_number",
            Kind::PostalCode => "postal_code",
            Kind::Address => "address",
            Kind::BirthDate => "birth_date",
            Kind::BankAccount => "bank_account",
            Kind::CreditCard => "credit_card",
            Kind::PassportNumber => "passport_number",
            Kind::DriversLicenseNumber => "drivers_license_number",
            Kind::Email => "email",
            Kind::Keyword => "keyword",
        }
    }

    /// The Japanese label shown to staff.
    pub fn label_ja(self) -> &'static str {
        match self {
            Kind::MyNumber => "個人番号",
            Kind::CorporateNumber => "法人番号",
            Kind::ResidentRecordCode => "住民票コード",
            Kind::BasicPensionNumber => "基礎年金番号",
            Kind::ResidenceCardNumber => "在留カード番号",
            Kind::PhoneNumber => "電話番号",
            Kind::PostalCode => "郵便番号",
            Kind::Address => "住所",
            Kind::BirthDate => "生年月日",
            Kind::BankAccount => "口座番号",
            Kind::CreditCard => "クレジットカード番号",
            Kind::PassportNumber => "旅券番号",
            Kind::DriversLicenseNumber => "運転免許証番号",
            Kind::Email => "メールアドレス",
            Kind::Keyword => "機密キーワード",
        }
    }

    /// The English label.
    pub fn label_en(self) -> &'static str {
        match self {
            Kind::MyNumber => "My Number",
            Kind::CorporateNumber => "Corporate Number",
            Kind::ResidentRecordCode => "Resident Record Code",
            Kind::BasicPensionNumber => "Basic Pension Number",
            Kind::ResidenceCardNumber => "Residence Card Number",
            Kind::PhoneNumber => "Phone Number",
            Kind::PostalCode => "Postal Code",
            Kind::Address => "Address",
            Kind::BirthDate => "Date of Birth",
            Kind::BankAccount => "Bank Account Number",
            Kind::CreditCard => "Credit Card Number",
            Kind::PassportNumber => "Passport Number",
            Kind::DriversLicenseNumber => "Driver's License Number",
            Kind::Email => "Email Address",
            Kind::Keyword => "Confidentiality Keyword",
        }
    }

    /// Parses a [`Kind::code`]; unknown codes yield `None`.
    pub fn parse(code: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == code)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Kind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Kind::parse(&code)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown kind code: {code}")))
    }
}
