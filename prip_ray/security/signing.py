"""Signatures of traces: RSA-SHA256 (PKCS#1 v1.5) or ECDSA-SHA256 with the PRIP's key, with
its X.509 certificate carried along so that anyone can verify the trace on its own."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from prip_ray.errors import ConfigurationError

RSA_SHA256 = "RSA-SHA256"
ECDSA_SHA256 = "ECDSA-SHA256"


@dataclass(frozen=True)
class TraceSigner:
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @classmethod
    def from_files(cls, key_path: Path, cert_path: Path) -> TraceSigner:
        try:
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
        except (OSError, ValueError, TypeError) as e:
            raise ConfigurationError(
                f"cannot load the trace signing key or certificate: {e}"
            ) from e
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise ConfigurationError("the trace signing key must be RSA or EC")
        if _public_der(key.public_key()) != _public_der(certificate.public_key()):
            raise ConfigurationError(
                f"the certificate {cert_path} is not the one of the key {key_path}"
            )
        return cls(key, certificate)

    @property
    def algorithm(self) -> str:
        return RSA_SHA256 if isinstance(self.key, rsa.RSAPrivateKey) else ECDSA_SHA256

    def sign(self, message: str) -> dict[str, str]:
        """The trace's ``signature`` object for ``message`` (the signed JSON text)."""
        data = message.encode()
        if isinstance(self.key, rsa.RSAPrivateKey):
            signature = self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        else:
            signature = self.key.sign(data, ec.ECDSA(hashes.SHA256()))
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        return {
            "algorithm": self.algorithm,
            "signature": base64.b64encode(signature).decode(),
            "certificate": base64.b64encode(der).decode(),
            "message": message,
        }


def verify_signature(signature: dict[str, Any]) -> bool:
    """Whether ``signature["signature"]`` signs ``signature["message"]`` with the key of the
    certificate it carries."""
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(signature["certificate"]))
        raw = base64.b64decode(signature["signature"])
        data = str(signature["message"]).encode()
        public = certificate.public_key()
        if signature["algorithm"] == RSA_SHA256 and isinstance(public, rsa.RSAPublicKey):
            public.verify(raw, data, padding.PKCS1v15(), hashes.SHA256())
        elif signature["algorithm"] == ECDSA_SHA256 and isinstance(
            public, ec.EllipticCurvePublicKey
        ):
            public.verify(raw, data, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except (InvalidSignature, KeyError, ValueError, TypeError):
        return False
    return True


def certificate_of(signature: dict[str, Any]) -> x509.Certificate:
    return x509.load_der_x509_certificate(base64.b64decode(signature["certificate"]))


def _public_der(key: Any) -> bytes:
    return bytes(
        key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
