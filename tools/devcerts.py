"""Development PKI for the handoff link: one CA per side and one peer certificate per side.

Each operator runs its own CA and trusts only the other side's CA for the link (spec §2.1),
so the dev PKI mirrors that: ``vn-ca.pem`` signs ``vn.pem``, ``cn-ca.pem`` signs ``cn.pem``.
A peer certificate carries the identity the link authorises, as the subjectAltName URI
``urn:smartgate:peer:<side>:<system_id>``, plus DNS/IP names for the side that listens.
ECDSA P-256 keys, short lifetimes: never use these outside development and tests.

    python tools/devcerts.py OUT_DIR [--vn-id ID] [--cn-id ID] [--host NAME ...]

or, from Python, ``make_dev_pki(folder)`` (tests make their own in tmp dirs).
"""

from __future__ import annotations

import argparse
import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_IDS = {"vn": "vn-smartgate-lang-son", "cn": "cn-youyiguan-dispatch"}
DEFAULT_HOSTS = ("localhost", "127.0.0.1")

Key = ec.EllipticCurvePrivateKey


def _name(common_name: str, org: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def make_ca(common_name: str, days: int = 30) -> tuple[Key, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    name = _name(common_name, "smartgate development CA")
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_peer_cert(
    ca_key: Key,
    ca_cert: x509.Certificate,
    side: str,
    system_id: str,
    hosts: tuple[str, ...] = DEFAULT_HOSTS,
    days: int = 30,
) -> tuple[Key, x509.Certificate]:
    """A certificate usable as TLS server and client, naming the peer by its SAN URI."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    names: list[x509.GeneralName] = [
        x509.UniformResourceIdentifier(f"urn:smartgate:peer:{side}:{system_id}")
    ]
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(system_id, f"smartgate {side.upper()} side"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def write_pair(folder: Path, stem: str, key: Key, cert: x509.Certificate) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / f"{stem}.pem", folder / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def make_dev_pki(
    folder: Path | str,
    *,
    ids: dict[str, str] | None = None,
    hosts: tuple[str, ...] = DEFAULT_HOSTS,
    days: int = 30,
) -> dict[str, Path]:
    """Write vn-ca/cn-ca and vn/cn certificate + key pairs; returns their paths by stem."""
    folder = Path(folder)
    ids = {**DEFAULT_IDS, **(ids or {})}
    out: dict[str, Path] = {}
    for side in ("vn", "cn"):
        ca_key, ca_cert = make_ca(f"smartgate {side.upper()} dev CA", days)
        out[f"{side}-ca"], out[f"{side}-ca.key"] = write_pair(folder, f"{side}-ca", ca_key, ca_cert)
        key, cert = make_peer_cert(ca_key, ca_cert, side, ids[side], hosts, days)
        out[side], out[f"{side}.key"] = write_pair(folder, side, key, cert)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("out", type=Path, help="folder to write the PEM files into")
    ap.add_argument("--vn-id", default=DEFAULT_IDS["vn"], help="VN system_id")
    ap.add_argument("--cn-id", default=DEFAULT_IDS["cn"], help="CN system_id")
    ap.add_argument("--host", action="append", help="DNS name / IP in the certificates")
    ap.add_argument("--days", type=int, default=30)
    args = ap.parse_args(argv)
    paths = make_dev_pki(
        args.out,
        ids={"vn": args.vn_id, "cn": args.cn_id},
        hosts=tuple(args.host or DEFAULT_HOSTS),
        days=args.days,
    )
    for stem, path in sorted(paths.items()):
        print(f"{stem:8} {path}")


if __name__ == "__main__":
    main()
