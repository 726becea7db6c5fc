//! Signs a relay directory payload for publication.
//!
//! ```text
//! cargo run --example sign_directory -- <payload.json> <32-byte Ed25519 seed as 64 hex digits>
//! ```
//!
//! Checks the payload as clients will (fields, codes, duplicate ids, validity period), signs
//! its exact bytes under the directory label, and prints the signed JSON envelope and the
//! public key to pin in clients.

use meetkey::routing::SignedDirectory;
use meetkey::SignaturePrivateKey;

fn seed_from_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits = s.trim().as_bytes();
    if digits.len() != 64 {
        return Err("the seed must be 64 hex digits".into());
    }
    digits
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).map_err(|e| e.to_string())?;
            u8::from_str_radix(pair, 16).map_err(|e| format!("bad hex {pair:?}: {e}"))
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [payload_path, seed_hex] = args.as_slice() else {
        return Err("usage: sign_directory <payload.json> <seed-hex>".into());
    };
    let payload = std::fs::read(payload_path)?;
    let key = SignaturePrivateKey::from_seed(&seed_from_hex(seed_hex)?)?;
    let signed = SignedDirectory::sign(&payload, &key)?;
    println!("{}", String::from_utf8(signed.to_json()?)?);
    let public: String = key
        .public_key()
        .to_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    eprintln!("public key to pin: {public}");
    Ok(())
}
