//! Content digests (`sha256:<hex>`) and a reader that hashes what passes through it.

use std::io::Read;

use sha2::{Digest as _, Sha256};

/// A `sha256:<64 hex>` digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

/// A digest string that is not `sha256:` + 64 lowercase hex characters.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid digest {0:?}: expected sha256:<64 hex characters>")]
pub struct BadDigest(pub String);

impl Digest {
    /// Parses and validates a digest.
    pub fn parse(s: &str) -> Result<Self, BadDigest> {
        match s.strip_prefix("sha256:") {
            Some(hex)
                if hex.len() == 64
                    && hex
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
            {
                Ok(Self(s.to_owned()))
            }
            _ => Err(BadDigest(s.to_owned())),
        }
    }

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(format!("sha256:{}", hex::encode(Sha256::digest(bytes))))
    }

    /// The 64 hex characters: safe as a file name.
    pub fn hex(&self) -> &str {
        &self.0["sha256:".len()..]
    }

    /// `sha256:<hex>`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Hashes every byte read through it.
#[derive(Debug)]
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// Reads the rest of the stream (tar padding, for instance) and returns the digest and
    /// the number of bytes seen.
    pub fn finish(mut self) -> std::io::Result<(Digest, u64)> {
        std::io::copy(&mut self, &mut std::io::sink())?;
        Ok((
            Digest(format!("sha256:{}", hex::encode(self.hasher.finalize()))),
            self.bytes,
        ))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Wraps a layer stream in the right decompressor, sniffing the magic bytes (gzip or plain).
pub fn decompressed<'a, R: Read + 'a>(mut reader: R) -> std::io::Result<Box<dyn Read + 'a>> {
    let mut magic = [0u8; 2];
    let mut n = 0;
    while n < 2 {
        let m = reader.read(&mut magic[n..])?;
        if m == 0 {
            break;
        }
        n += m;
    }
    let head = std::io::Cursor::new(magic[..n].to_vec());
    let chained = head.chain(reader);
    if n == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(chained)))
    } else {
        Ok(Box::new(chained))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_hashes() {
        let d = Digest::of(b"hello");
        assert_eq!(
            d.as_str(),
            "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(Digest::parse(d.as_str()), Ok(d.clone()));
        for bad in [
            "sha256:xyz",
            "md5:00",
            "sha256:../../etc",
            &format!("sha256:{}", "A".repeat(64)),
        ] {
            assert!(Digest::parse(bad).is_err(), "{bad}");
        }
        let mut r = HashingReader::new(&b"hello"[..]);
        let mut buf = [0u8; 2];
        r.read_exact(&mut buf).unwrap();
        assert_eq!(r.finish().unwrap(), (d, 5));
    }

    #[test]
    fn sniffs_gzip() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, b"payload").unwrap();
        let bytes = gz.finish().unwrap();
        let mut out = String::new();
        decompressed(&bytes[..])
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "payload");
        out.clear();
        decompressed(&b"plain"[..])
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "plain");
    }
}
