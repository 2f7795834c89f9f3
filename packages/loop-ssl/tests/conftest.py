"""Certificates made at test time: a CA, a server certificate, contexts for both ends,
and the same as PEM files for openssl."""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

import pytest
import trustme


def client_context_trusting(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(context)
    return context


def server_context_for(cert: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server_cert(tls_ca: trustme.CA) -> trustme.LeafCert:
    return tls_ca.issue_cert("localhost", "127.0.0.1")


@pytest.fixture
def server_context(server_cert: trustme.LeafCert) -> ssl.SSLContext:
    return server_context_for(server_cert)


@pytest.fixture
def client_context(tls_ca: trustme.CA) -> ssl.SSLContext:
    return client_context_trusting(tls_ca)


@pytest.fixture
def ca_pem(tls_ca: trustme.CA, tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture
def server_pem(server_cert: trustme.LeafCert, tmp_path: Path) -> Path:
    """Key and certificate chain in one file, as openssl s_server takes them."""
    path = tmp_path / "server.pem"
    server_cert.private_key_and_cert_chain_pem.write_to_path(str(path))
    return path


@pytest.fixture
def expired_server_context(tls_ca: trustme.CA) -> ssl.SSLContext:
    long_ago = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
    cert = tls_ca.issue_cert(
        "localhost", not_before=long_ago, not_after=long_ago + datetime.timedelta(days=1)
    )
    return server_context_for(cert)
