"""Setup's certificate step after damage: corrupt, empty or short-lived files, leftovers of a killed run, a run
interrupted while publishing. Each time the next run repairs the certificates."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.certs_step import CertsStep, iso, not_after, require_step_tools
from tests.support.paths import CERT_INSTANCES_DIR
from tests.support.tls_certs import openssl

TLS = CERT_INSTANCES_DIR / "tls.yml"
NAMES = ("elasticsearch", "kibana")
GARBAGE = b"not a certificate\n"


@pytest.fixture
def step(tmp_path: Path) -> CertsStep:
    require_step_tools()
    return CertsStep(tmp_path)


def assert_every_pair_verifies_against(step: CertsStep, ca: Path) -> None:
    for name in NAMES:
        cert, key = step.certs / name / f"{name}.crt", step.certs / name / f"{name}.key"
        assert openssl("verify", "-CAfile", str(ca), str(cert)) == f"{cert}: OK\n".encode()
        assert openssl("x509", "-in", str(cert), "-noout", "-pubkey") == openssl("pkey", "-in", str(key), "-pubout")


def test_a_renewed_ca_whose_certificates_failed_gets_them_on_the_next_run(step):
    assert step.run(TLS, CA_DAYS="20", CERT_DAYS="100", CERT_RENEW_DAYS="5").returncode == 0
    old_ca, old_kibana = (step.ca / "ca/ca.crt").read_bytes(), (step.certs / "kibana/kibana.crt").read_bytes()

    failed = step.run(TLS, FAKE_CERTUTIL_FAIL_ON="cert")

    assert failed.returncode == 1
    assert failed.lines[0].startswith("CA: generated, because it expires within 30 days (on ")
    new_ca = step.ca / "ca/ca.crt"
    assert new_ca.read_bytes() != old_ca
    assert (step.certs / "ca/ca.crt").read_bytes() == old_ca
    # The old certificates still have 100 days: only the published CA tells that they are the old CA's.
    run = step.run(TLS)
    assert run.returncode == 0, run.stderr
    assert [call[0] for call in run.calls] == ["cert"]
    assert run.lines[1] == f"elasticsearch, kibana: generated, because {step.certs}/ca/ca.crt is missing or is not " \
                           "the CA's certificate"
    assert (step.certs / "kibana/kibana.crt").read_bytes() != old_kibana
    assert (step.certs / "ca/ca.crt").read_bytes() == new_ca.read_bytes()
    assert_every_pair_verifies_against(step, new_ca)


@pytest.mark.parametrize(
    ("damaged", "content", "reason"),
    [
        ("elasticsearch/elasticsearch.crt", GARBAGE, "elasticsearch/elasticsearch.crt cannot be read"),
        ("kibana/kibana.crt", GARBAGE, "kibana/kibana.crt cannot be read"),
        ("ca/ca.crt", GARBAGE, "{certs}/ca/ca.crt is missing or is not the CA's certificate"),
        ("elasticsearch/elasticsearch.key", b"", "elasticsearch/elasticsearch.key is missing or empty"),
        ("kibana/kibana.key", b"", "kibana/kibana.key is missing or empty"),
    ],
)
def test_a_corrupt_or_empty_file_remakes_the_certificates_and_keeps_the_ca(step, damaged, content, reason):
    step.run(TLS)
    ca_key = (step.ca / "ca/ca.key").read_bytes()
    (step.certs / damaged).write_bytes(content)

    run = step.run(TLS)

    assert run.returncode == 0, run.stderr
    assert [call[0] for call in run.calls] == ["cert"]
    assert run.lines[1] == f"elasticsearch, kibana: generated, because {reason.format(certs=step.certs)}"
    assert (step.ca / "ca/ca.key").read_bytes() == ca_key
    assert_every_pair_verifies_against(step, step.ca / "ca/ca.crt")


@pytest.mark.parametrize(
    ("damaged", "content", "reason"),
    [
        ("ca/ca.crt", GARBAGE, "{ca}/ca/ca.crt cannot be read"),
        ("ca/ca.key", b"", "{ca} holds none"),
    ],
)
def test_a_corrupt_or_empty_ca_file_remakes_the_ca_and_every_certificate(step, damaged, content, reason):
    step.run(TLS)
    old_ca = (step.ca / "ca/ca.crt").read_bytes()
    (step.ca / damaged).chmod(0o600)
    (step.ca / damaged).write_bytes(content)

    run = step.run(TLS)

    assert run.returncode == 0, run.stderr
    assert [call[0] for call in run.calls] == ["ca", "cert"]
    assert run.lines == [f"CA: generated, because {reason.format(ca=step.ca)}",
                         "elasticsearch, kibana: generated, because the CA was generated"]
    assert (step.ca / "ca/ca.crt").read_bytes() not in (old_ca, content)
    assert_every_pair_verifies_against(step, step.certs / "ca/ca.crt")


def test_a_short_lived_second_instance_renews_every_certificate(step):
    step.run(TLS)
    kibana = step.certs / "kibana/kibana.crt"
    elasticsearch_before = (step.certs / "elasticsearch/elasticsearch.crt").read_bytes()
    # Kibana's own certificate and key, signed again by the CA for 10 days; elasticsearch keeps its 1095.
    request = openssl("req", "-new", "-key", str(step.certs / "kibana/kibana.key"), "-subj", "/CN=kibana")
    kibana.write_bytes(openssl("x509", "-req", "-CA", str(step.ca / "ca/ca.crt"), "-CAkey", str(step.ca / "ca/ca.key"),
                               "-set_serial", "4242", "-days", "10", stdin=request))
    short_end = not_after(kibana)
    assert timedelta(days=9) < short_end - datetime.now(UTC) <= timedelta(days=10)

    run = step.run(TLS)

    assert run.returncode == 0, run.stderr
    assert [call[0] for call in run.calls] == ["cert"]
    # The instances are made together, so elasticsearch's certificate is renewed along with kibana's.
    assert run.lines[1] == f"elasticsearch, kibana: generated, because kibana/kibana.crt expires within 30 days " \
                           f"(on {iso(short_end)})"
    assert not_after(kibana) > datetime.now(UTC) + timedelta(days=1094)
    assert (step.certs / "elasticsearch/elasticsearch.crt").read_bytes() != elasticsearch_before
    assert_every_pair_verifies_against(step, step.certs / "ca/ca.crt")


def test_leftover_staging_folders_of_a_killed_run_are_removed(step):
    step.run(TLS)
    before = step.snapshot()
    for top in (step.certs, step.ca):
        (top / ".staging.Kil1ed/unzipped/ca").mkdir(parents=True)
        (top / ".staging.Kil1ed/unzipped/ca/ca.crt").write_bytes(GARBAGE)

    run = step.run(TLS)

    assert run.returncode == 0, run.stderr
    assert run.calls == []
    assert step.snapshot() == before


def interrupt_the_nth_mv(step: CertsStep, n: int) -> Path:
    """A `mv` ahead of the real one on the step's PATH that fails its nth call, as a kill midway would stop it."""
    wrapper, count = step.bin / "mv", step.bin / "mv-calls"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'n=$(($("{step.image_bin}/cat" "{count}" 2>/dev/null || echo 0) + 1))\n'
        f'echo "$n" >"{count}"\n'
        f'if [ "$n" -eq {n} ]; then echo "mv: interrupted by the test" >&2; exit 1; fi\n'
        f'exec "{step.image_bin}/mv" "$@"\n'
    )
    wrapper.chmod(0o755)
    return wrapper


def test_a_run_interrupted_while_publishing_is_redone_by_the_next(step):
    step.run(TLS)
    (step.certs / "ca/ca.crt").write_bytes(GARBAGE)
    old_key = (step.certs / "elasticsearch/elasticsearch.key").read_bytes()
    # The publishing moves: ca.crt, elasticsearch.crt, elasticsearch.key (this one fails), ...
    wrapper = interrupt_the_nth_mv(step, 3)

    failed = step.run(TLS)

    assert failed.returncode == 1
    assert failed.stderr == "mv: interrupted by the test\n"
    assert (step.certs / "elasticsearch/elasticsearch.key").read_bytes() == old_key
    assert not (step.certs / "instances.yml").exists()
    assert sorted(path.name for path in step.certs.iterdir()) == ["ca", "elasticsearch", "kibana"]
    wrapper.unlink()
    run = step.run(TLS)
    assert run.returncode == 0, run.stderr
    assert run.lines[1] == "elasticsearch, kibana: generated, because no finished generation recorded its " \
                           "instances file"
    assert_every_pair_verifies_against(step, step.ca / "ca/ca.crt")
    assert (step.certs / "instances.yml").read_bytes() == TLS.read_bytes()
