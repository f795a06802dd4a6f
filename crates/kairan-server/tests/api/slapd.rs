//! A private OpenLDAP `slapd` for the directory sign-in tests (I9): a test tree (people,
//! groups, a password policy that disables one account), its own certificate authority and
//! server certificate made with `openssl`, and both LDAPS and plain-then-StartTLS listeners on
//! free ports. `scripts/test-all` installs the `slapd` package when it is missing.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const SUFFIX: &str = "dc=example,dc=lg,dc=jp";
/// The directory passwords of the tree's people.
pub const TANAKA_PASSWORD: &str = "Directory-pass-tanaka-1";
pub const SATO_PASSWORD: &str = "Directory-pass-sato-2";
pub const SUZUKI_PASSWORD: &str = "Directory-pass-suzuki-3";

pub struct Slapd {
    child: Option<Child>,
    dir: PathBuf,
    pub ldap_port: u16,
    pub ldaps_port: u16,
    pub ca_pem: String,
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("command runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Slapd {
    pub async fn start() -> Slapd {
        let dir = std::env::temp_dir().join(format!("kairan-slapd-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(dir.join("db")).expect("dir");
        make_certificates(&dir);
        let conf = dir.join("slapd.conf");
        std::fs::write(&conf, config(&dir)).expect("conf");
        std::fs::write(dir.join("tree.ldif"), tree()).expect("tree");
        run(Command::new("/usr/sbin/slapadd")
            .arg("-f")
            .arg(&conf)
            .arg("-l")
            .arg(dir.join("tree.ldif")));
        let mut s = Slapd {
            child: None,
            ca_pem: std::fs::read_to_string(dir.join("ca.pem")).expect("ca"),
            dir,
            ldap_port: free_port(),
            ldaps_port: free_port(),
        };
        s.resume().await;
        s
    }

    /// Starts (again) on the same ports with the same tree.
    pub async fn resume(&mut self) {
        let child = Command::new("/usr/sbin/slapd")
            .arg("-f")
            .arg(self.dir.join("slapd.conf"))
            .arg("-h")
            .arg(format!(
                "ldap://127.0.0.1:{}/ ldaps://127.0.0.1:{}/",
                self.ldap_port, self.ldaps_port
            ))
            .arg("-d")
            .arg("0")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("slapd starts (scripts/test-all installs slapd)");
        self.child = Some(child);
        for _ in 0..100 {
            let both = tokio::net::TcpStream::connect(("127.0.0.1", self.ldap_port))
                .await
                .is_ok()
                && tokio::net::TcpStream::connect(("127.0.0.1", self.ldaps_port))
                    .await
                    .is_ok();
            if both {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("slapd did not listen within 5 s");
    }

    /// The directory goes down.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn ldaps_url(&self) -> String {
        format!("ldaps://127.0.0.1:{}", self.ldaps_port)
    }

    pub fn ldap_url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.ldap_port)
    }

    /// Directory settings for this instance over LDAPS, groups mapped as given.
    pub fn settings(&self, extra: serde_json::Value) -> serde_json::Value {
        let mut v = serde_json::json!({
            "url": self.ldaps_url(),
            "bind_dn": format!("uid={{login}},ou=people,{SUFFIX}"),
            "user_base": format!("ou=people,{SUFFIX}"),
            "user_filter": "(uid={login})",
            "group_base": format!("ou=groups,{SUFFIX}"),
            "ca_pem": self.ca_pem,
            "timeout_seconds": 3,
        });
        if let (Some(m), serde_json::Value::Object(e)) = (v.as_object_mut(), extra) {
            m.extend(e);
        }
        v
    }
}

pub fn group_dn(cn: &str) -> String {
    format!("cn={cn},ou=groups,{SUFFIX}")
}

fn make_certificates(dir: &Path) {
    let p = |f: &str| dir.join(f);
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=Kairan Test Directory CA",
            "-keyout",
        ])
        .arg(p("ca.key"))
        .arg("-out")
        .arg(p("ca.pem")));
    run(Command::new("openssl")
        .args([
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
        ])
        .arg(p("server.key"))
        .arg("-out")
        .arg(p("server.csr")));
    std::fs::write(
        p("ext.cnf"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .expect("ext");
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-in"])
        .arg(p("server.csr"))
        .arg("-CA")
        .arg(p("ca.pem"))
        .arg("-CAkey")
        .arg(p("ca.key"))
        .arg("-CAcreateserial")
        .arg("-out")
        .arg(p("server.pem"))
        .arg("-extfile")
        .arg(p("ext.cnf")));
}

fn config(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile {d}/slapd.pid
TLSCACertificateFile {d}/ca.pem
TLSCertificateFile {d}/server.pem
TLSCertificateKeyFile {d}/server.key
database mdb
suffix \"{SUFFIX}\"
rootdn \"cn=admin,{SUFFIX}\"
rootpw not-used-by-kairan
directory {d}/db
overlay ppolicy
ppolicy_default \"cn=default,ou=policies,{SUFFIX}\"
ppolicy_use_lockout
access to attrs=userPassword by anonymous auth by self write by * none
access to * by users read by * none
"
    )
}

fn tree() -> String {
    format!(
        "dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
o: Example City
dc: example

dn: ou=people,{SUFFIX}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{SUFFIX}
objectClass: organizationalUnit
ou: groups

dn: ou=policies,{SUFFIX}
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,{SUFFIX}
objectClass: pwdPolicy
objectClass: device
cn: default
pwdAttribute: userPassword
pwdLockout: TRUE

dn: uid=tanaka,ou=people,{SUFFIX}
objectClass: inetOrgPerson
uid: tanaka
cn: Tanaka Hanako
sn: Tanaka
userPassword: {TANAKA_PASSWORD}

dn: uid=sato,ou=people,{SUFFIX}
objectClass: inetOrgPerson
uid: sato
cn: Sato Jiro
sn: Sato
userPassword: {SATO_PASSWORD}
pwdAccountLockedTime: 000001010000Z

dn: uid=suzuki,ou=people,{SUFFIX}
objectClass: inetOrgPerson
uid: suzuki
cn: Suzuki Ichiro
sn: Suzuki
userPassword: {SUZUKI_PASSWORD}

dn: cn=kairan-section-heads,ou=groups,{SUFFIX}
objectClass: groupOfNames
cn: kairan-section-heads
member: uid=tanaka,ou=people,{SUFFIX}

dn: cn=soumu,ou=groups,{SUFFIX}
objectClass: groupOfNames
cn: soumu
member: uid=tanaka,ou=people,{SUFFIX}
member: uid=suzuki,ou=people,{SUFFIX}
"
    )
}
