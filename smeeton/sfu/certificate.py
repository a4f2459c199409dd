"""The server's DTLS certificate and the fingerprints that name certificates in SDP."""

from __future__ import annotations

import datetime
import hmac
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

# RFC 8122 §5: the hash functions an SDP fingerprint may name.
FINGERPRINT_HASHES = {
    "sha-1": hashes.SHA1,
    "sha-224": hashes.SHA224,
    "sha-256": hashes.SHA256,
    "sha-384": hashes.SHA384,
    "sha-512": hashes.SHA512,
}


@dataclass(frozen=True)
class Certificate:
    """A self-signed ECDSA certificate, made once per server start."""

    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> Certificate:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smeeton")])
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256())
        )
        return cls(certificate, key)

    @property
    def fingerprint(self) -> str:
        """The sha-256 fingerprint in SDP form: upper-case hex pairs with colons."""
        return fingerprint_of(self.certificate, "sha-256")


def fingerprint_of(certificate: x509.Certificate, algorithm: str) -> str:
    """The certificate's fingerprint under the named SDP hash function."""
    try:
        hash_type = FINGERPRINT_HASHES[algorithm.lower()]
    except KeyError:
        raise ValueError(f"unsupported fingerprint hash {algorithm!r}") from None
    digest = certificate.fingerprint(hash_type())
    return ":".join(f"{b:02X}" for b in digest)


def fingerprint_matches(
    certificate: x509.Certificate, algorithm: str, expected: str
) -> bool:
    """Whether the certificate is the one the SDP fingerprint names."""
    try:
        actual = fingerprint_of(certificate, algorithm)
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected.upper())
