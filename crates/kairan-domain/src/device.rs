//! Device classes (I5; seed 003 §5-2, §5-3): a request comes either from a PC on the LGWAN
//! side (LGWAN接続系) or from an internet device (スマートフォン等). The server decides which from
//! its network-zone configuration, never from what the client says; rules that differ by
//! connection (which files may be attached or fetched) read it from here.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceClass {
    /// A PC in the office on the LGWAN side.
    LgwanPc,
    /// A smartphone, tablet or PC reaching the server from the internet.
    InternetDevice,
}

impl DeviceClass {
    pub const ALL: [DeviceClass; 2] = [DeviceClass::LgwanPc, DeviceClass::InternetDevice];

    pub fn code(self) -> &'static str {
        match self {
            DeviceClass::LgwanPc => "lgwan_pc",
            DeviceClass::InternetDevice => "internet_device",
        }
    }

    pub fn parse(code: &str) -> Option<DeviceClass> {
        DeviceClass::ALL.into_iter().find(|d| d.code() == code)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            DeviceClass::LgwanPc => "LGWAN接続系端末",
            DeviceClass::InternetDevice => "スマートフォン等",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            DeviceClass::LgwanPc => "LGWAN PC",
            DeviceClass::InternetDevice => "internet device",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for d in DeviceClass::ALL {
            assert_eq!(DeviceClass::parse(d.code()), Some(d));
        }
        assert_eq!(DeviceClass::parse("smartphone"), None);
    }
}
