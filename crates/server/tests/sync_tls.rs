//! A hub behind TLS (a rustls front with a certificate from the test's own authority,
//! as a creator's reverse proxy would be): a device that trusts the authority
//! (`sync.ca_file`) pairs and syncs over https; one that does not is refused, and told
//! why.

mod common;

use common::{real_model, TestHub};
use fanline_core::hub::Scope;
use fanline_core::{Error, Fanline};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};

/// A certificate authority and a certificate for localhost signed by it.
fn certificates() -> (String, CertificateDer<'static>, PrivateKeyDer<'static>) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".into()]).unwrap().signed_by(&key, &ca, &ca_key).unwrap();
    let der = CertificateDer::from(leaf.der().to_vec());
    (ca.pem(), der, PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())))
}

/// TLS in front of `upstream`; its port.
async fn tls_front(upstream: SocketAddr, cert: CertificateDer<'static>, key: PrivateKeyDer<'static>) -> u16 {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let Ok(mut hub) = TcpStream::connect(upstream).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut hub).await;
            });
        }
    });
    port
}

fn device(dir: &std::path::Path, ca_file: Option<&std::path::Path>) -> Fanline {
    let mut cfg = common::config(dir, true);
    if let Some(f) = ca_file {
        cfg.sync.ca_file = f.to_path_buf();
    }
    let app = Fanline::open_with(cfg, Some(real_model())).unwrap();
    app.init(None).unwrap();
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_syncs_with_a_hub_over_tls() {
    let hub = TestHub::start(real_model(), true, |_| {}).await;
    let (ca_pem, cert, key) = certificates();
    let port = tls_front(hub.addr(), cert, key).await;
    let url = format!("https://localhost:{port}");
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();

    // Not trusting the hub's authority: refused, and told it is the certificate.
    let stranger_dir = tempfile::tempdir().unwrap();
    let stranger = device(stranger_dir.path(), None);
    let code = hub.app.hub_pairing_code(&[Scope::Admin]).unwrap().code;
    let e = stranger.sync_pair(&url, &code, "Stranger").await.unwrap_err();
    assert!(matches!(e, Error::Hub(ref m) if m.to_lowercase().contains("certificate")), "{e}");

    // Trusting it: pairs, pulls the hub's library, and verifies over https.
    let laptop = device(&dir.path().join("data"), Some(&ca_file));
    laptop.sync_pair(&url, &code, "Laptop").await.unwrap();
    let r = laptop.sync_once().await.unwrap();
    assert!(r.pulled >= 6, "{r:?}");
    assert!(laptop.sync_verify().await.unwrap().equal);
    hub.stop().await;
}
