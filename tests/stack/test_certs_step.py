"""Setup's certificate step: when it runs elasticsearch-certutil, what it writes where, and what it refuses."""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.certs_step import CertsStep, iso, not_after, require_step_tools
from tests.support.paths import CERT_INSTANCES_DIR
from tests.support.tls_certs import openssl

TLS = CERT_INSTANCES_DIR / "tls.yml"
CLUSTER = CERT_INSTANCES_DIR / "cluster.yml"
ROOT = os.geteuid() == 0
# The services' images run as uid 1000, gid 0; without root the step leaves ownership alone.
SERVICE_OWNER = (1000, 0) if ROOT else (os.geteuid(), os.getegid())
CA_OWNER = (0, 0) if ROOT else (os.geteuid(), os.getegid())


@pytest.fixture
def step(tmp_path: Path) -> CertsStep:
    require_step_tools()
    return CertsStep(tmp_path)


def modes(step: CertsStep) -> dict[str, tuple[int, int, int]]:
    return {path: (mode, uid, gid) for path, (mode, uid, gid, _) in step.snapshot().items()}


def test_first_run_makes_the_ca_and_every_instance_file_with_its_mode(step):
    run = step.run(TLS)

    assert run.returncode == 0, run.stderr
    assert run.lines == [
        f"CA: generated, because {step.ca} holds none",
        "elasticsearch, kibana: generated, because the CA was generated",
    ]
    ca_call, cert_call = run.calls
    assert ca_call[:5] == ["ca", "--silent", "--pem", "--days", "3650"]
    assert ca_call[5] == "--out" and ca_call[6].startswith(f"{step.ca}/.staging.") and len(ca_call) == 7
    assert cert_call[:10] == ["cert", "--silent", "--pem", "--in", str(TLS), "--ca-cert", f"{step.ca}/ca/ca.crt",
                              "--ca-key", f"{step.ca}/ca/ca.key", "--days"]
    assert cert_call[10:12] == ["1095", "--out"] and cert_call[12].startswith(f"{step.certs}/.staging.")
    service, ca = SERVICE_OWNER, CA_OWNER
    assert modes(step) == {
        "certs": (0o755, *service),
        "certs/ca": (0o755, *service),
        "certs/ca/ca.crt": (0o644, *service),
        "certs/elasticsearch": (0o755, *service),
        "certs/elasticsearch/elasticsearch.crt": (0o644, *service),
        "certs/elasticsearch/elasticsearch.key": (0o440, *service),
        "certs/kibana": (0o755, *service),
        "certs/kibana/kibana.crt": (0o644, *service),
        "certs/kibana/kibana.key": (0o440, *service),
        "certs/instances.yml": (0o644, *service),
        "certs-ca": (0o700, *ca),
        "certs-ca/ca": (0o700, *ca),
        "certs-ca/ca/ca.crt": (0o644, *ca),
        "certs-ca/ca/ca.key": (0o400, *ca),
    }
    assert (step.certs / "ca/ca.crt").read_bytes() == (step.ca / "ca/ca.crt").read_bytes()
    assert (step.certs / "instances.yml").read_bytes() == TLS.read_bytes()
    assert "PRIVATE KEY" not in run.stderr + "\n".join(run.lines)


@pytest.mark.parametrize(
    ("instances", "names"),
    [
        (TLS, {"elasticsearch": "elasticsearch", "kibana": "kibana"}),
        (CLUSTER, {"es01": "es01", "es02": "es02", "es03": "es03", "kibana": "kibana"}),
    ],
)
def test_every_certificate_verifies_against_the_ca_and_names_its_service_and_localhost(step, instances, names):
    assert step.run(instances).returncode == 0
    ca = step.certs / "ca/ca.crt"

    for name, service in names.items():
        cert, key = step.certs / name / f"{name}.crt", step.certs / name / f"{name}.key"
        assert openssl("verify", "-CAfile", str(ca), str(cert)) == f"{cert}: OK\n".encode()
        assert openssl("x509", "-in", str(cert), "-noout", "-subject") == f"subject=CN = {name}\n".encode()
        sans = openssl("x509", "-in", str(cert), "-noout", "-ext", "subjectAltName").decode().splitlines()[1].strip()
        assert sans == f"IP Address:127.0.0.1, DNS:{service}, DNS:localhost"
        assert openssl("x509", "-in", str(cert), "-noout", "-pubkey") == openssl("pkey", "-in", str(key), "-pubout")
    assert sorted(path.name for path in step.certs.iterdir()) == sorted([*names, "ca", "instances.yml"])


def test_a_second_run_calls_certutil_zero_times_and_changes_nothing(step):
    step.run(TLS)
    before = step.snapshot()

    run = step.run(TLS)

    assert run.returncode == 0, run.stderr
    assert run.calls == []
    assert step.snapshot() == before
    assert run.lines == [
        f"CA: kept, valid until {iso(not_after(step.ca / 'ca/ca.crt'))}",
        f"elasticsearch: kept, valid until {iso(not_after(step.certs / 'elasticsearch/elasticsearch.crt'))}",
        f"kibana: kept, valid until {iso(not_after(step.certs / 'kibana/kibana.crt'))}",
    ]


def test_a_changed_instances_file_remakes_the_certificates_and_keeps_the_ca(step):
    step.run(TLS)
    ca_before = (step.ca / "ca/ca.key").read_bytes()
    kibana_before = (step.certs / "kibana/kibana.crt").read_bytes()

    run = step.run(CLUSTER)

    assert run.returncode == 0, run.stderr
    assert [call[0] for call in run.calls] == ["cert"]
    assert run.lines[0].startswith("CA: kept, valid until ")
    assert run.lines[1:] == [
        f"elasticsearch: removed, because {CLUSTER} no longer lists it",
        f"es01, es02, es03, kibana: generated, because {CLUSTER} differs from the one of the last generation",
    ]
    assert (step.ca / "ca/ca.key").read_bytes() == ca_before
    assert (step.certs / "kibana/kibana.crt").read_bytes() != kibana_before
    assert sorted(path.name for path in step.certs.iterdir()) == ["ca", "es01", "es02", "es03", "instances.yml",
                                                                   "kibana"]
    assert (step.certs / "instances.yml").read_bytes() == CLUSTER.read_bytes()


def test_a_certificate_within_the_renewal_window_is_renewed(step):
    assert step.run(TLS, CERT_DAYS="20", CERT_RENEW_DAYS="5").returncode == 0
    short_end = not_after(step.certs / "elasticsearch/elasticsearch.crt")
    assert step.run(TLS, CERT_DAYS="20", CERT_RENEW_DAYS="5").calls == []

    run = step.run(TLS)

    assert run.returncode == 0, run.stderr
    assert [call[0] for call in run.calls] == ["cert"]
    assert run.lines[1] == (f"elasticsearch, kibana: generated, because elasticsearch/elasticsearch.crt expires "
                            f"within 30 days (on {iso(short_end)})")
    assert not_after(step.certs / "kibana/kibana.crt") > datetime.now(UTC) + timedelta(days=1094)


def test_a_ca_within_the_renewal_window_is_remade_with_every_certificate(step):
    assert step.run(TLS, CA_DAYS="20", CERT_DAYS="10", CERT_RENEW_DAYS="5").returncode == 0
    old_ca = step.ca / "ca/ca.crt"
    old_end, old_bytes = not_after(old_ca), old_ca.read_bytes()

    run = step.run(TLS)

    assert run.returncode == 0, run.stderr
    assert [call[0] for call in run.calls] == ["ca", "cert"]
    assert run.lines == [
        f"CA: generated, because it expires within 30 days (on {iso(old_end)})",
        "elasticsearch, kibana: generated, because the CA was generated",
    ]
    assert (step.ca / "ca/ca.crt").read_bytes() != old_bytes
    ca = step.certs / "ca/ca.crt"
    assert ca.read_bytes() == (step.ca / "ca/ca.crt").read_bytes()
    kibana = step.certs / "kibana/kibana.crt"
    assert openssl("verify", "-CAfile", str(ca), str(kibana)) == f"{kibana}: OK\n".encode()


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("kibana/kibana.key", "kibana/kibana.key is missing or empty"),
        ("elasticsearch/elasticsearch.crt", "elasticsearch/elasticsearch.crt is missing or empty"),
        ("instances.yml", "no finished generation recorded its instances file"),
        ("ca/ca.crt", "{certs}/ca/ca.crt is missing or is not the CA's certificate"),
    ],
)
def test_a_missing_file_remakes_the_certificates_and_keeps_the_ca(step, damage, reason):
    step.run(TLS)
    ca_key = (step.ca / "ca/ca.key").read_bytes()
    (step.certs / damage).unlink()

    run = step.run(TLS)

    assert run.returncode == 0, run.stderr
    assert [call[0] for call in run.calls] == ["cert"]
    assert run.lines[1] == f"elasticsearch, kibana: generated, because {reason.format(certs=step.certs)}"
    assert (step.ca / "ca/ca.key").read_bytes() == ca_key
    assert (step.certs / damage).exists()
    assert step.run(TLS).calls == []


def test_certutil_failing_midway_changes_nothing_and_the_next_run_remakes(step):
    step.run(TLS)
    before = step.snapshot()

    failed = step.run(CLUSTER, FAKE_CERTUTIL_FAIL_ON="cert")

    assert failed.returncode == 1
    assert failed.stderr.endswith("create_certs: elasticsearch-certutil cert failed (exit 1); nothing was changed\n")
    assert step.snapshot() == before
    run = step.run(CLUSTER)
    assert run.returncode == 0, run.stderr
    assert run.lines[-1] == f"es01, es02, es03, kibana: generated, because {CLUSTER} differs from the one of the " \
                            "last generation"


def test_certutil_failing_on_the_ca_leaves_no_ca_and_the_next_run_makes_one(step):
    failed = step.run(TLS, FAKE_CERTUTIL_FAIL_ON="ca")

    assert failed.returncode == 1
    assert failed.stderr.endswith("create_certs: elasticsearch-certutil ca failed (exit 1); nothing was changed\n")
    assert sorted(step.snapshot()) == ["certs", "certs-ca"]
    assert step.run(TLS).lines[0] == f"CA: generated, because {step.ca} holds none"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"CA_DAYS": "ten"}, "CA_DAYS must be a whole number of days, got 'ten'"),
        ({"CERT_DAYS": "1.5"}, "CERT_DAYS must be a whole number of days, got '1.5'"),
        ({"CERT_DAYS": "0100"}, "CERT_DAYS must be a whole number of days, got '0100'"),
        ({"CERT_RENEW_DAYS": "-1"}, "CERT_RENEW_DAYS must be a whole number of days, got '-1'"),
        ({"CERT_DAYS": "0"}, "CERT_DAYS must be between 1 and 36500 days, got 0"),
        ({"CA_DAYS": "36501"}, "CA_DAYS must be between 1 and 36500 days, got 36501"),
        ({"CERT_RENEW_DAYS": "1095"},
         "CERT_RENEW_DAYS (1095) must be less than CERT_DAYS (1095), or every run renews the certificates"),
        ({"CA_DAYS": "20", "CERT_DAYS": "10", "CERT_RENEW_DAYS": "25"},
         "CERT_RENEW_DAYS (25) must be less than CERT_DAYS (10), or every run renews the certificates"),
        ({"CA_DAYS": "20", "CERT_DAYS": "100", "CERT_RENEW_DAYS": "30"},
         "CERT_RENEW_DAYS (30) must be less than CA_DAYS (20), or every run renews the CA"),
    ],
)
def test_bad_numbers_stop_the_step_naming_the_variable(step, settings, message):
    run = step.run(TLS, **settings)

    assert (run.returncode, run.stderr, run.calls) == (2, f"create_certs: {message}\n", [])
    assert sorted(step.snapshot()) == ["certs"]


BAD_INSTANCES = [
    ("instances:\n", "{file} lists no instances (expected '- name: <name>' entries under 'instances:')"),
    ("- name: es01\n", "{file} has no top-level 'instances:' list"),
    ("instances:\n  - name: ../etc\n", "{file}: instance name '../etc' must be 1 to 64 of A-Z a-z 0-9 . _ - and not "
     "start with a dot"),
    ("instances:\n  - name: .hidden\n", "{file}: instance name '.hidden' must be 1 to 64 of A-Z a-z 0-9 . _ - and "
     "not start with a dot"),
    ("instances:\n  - name: \"two words\"\n", "{file}: instance name 'two words' must be 1 to 64 of A-Z a-z 0-9 . _ "
     "- and not start with a dot"),
    ("instances:\n  - name: ca\n", "{file}: 'ca' may not be an instance name (ca/ holds the CA certificate)"),
    ("instances:\n  - name: es01\n  - name: 'es01'\n", "{file}: instance 'es01' is listed twice"),
    ("instances:\n  - name: es01\n    filename: node\n",
     "{file}: 'filename:' is not supported: an instance's files are named after it (<name>/<name>.crt)"),
    ("instances:\n  - {name: es01}\n",
     "{file}: flow mappings ({{...}}) are not read; write each instance as '- name: <name>'"),
]


@pytest.mark.parametrize(("text", "message"), BAD_INSTANCES)
def test_a_bad_instances_file_stops_the_step(step, tmp_path, text, message):
    instances = tmp_path / "instances.yml"
    instances.write_text(text)

    run = step.run(instances)

    assert (run.returncode, run.stderr, run.calls) == (2, f"create_certs: {message.format(file=instances)}\n", [])


def test_a_missing_instances_file_stops_the_step(step, tmp_path):
    unset = step.run(None)
    absent = step.run(tmp_path / "nowhere.yml")

    assert (unset.returncode, unset.stderr) == (
        2, "create_certs: CERT_INSTANCES_FILE must name the instances file (setup/certs/instances/<profile>.yml)\n")
    assert (absent.returncode, absent.stderr) == (
        2, f"create_certs: CERT_INSTANCES_FILE ({tmp_path / 'nowhere.yml'}) is not a readable file\n")


def test_the_instances_files_name_quoted_and_commented_entries_as_certutil_reads_them(step, tmp_path):
    instances = tmp_path / "instances.yml"
    instances.write_text("# a comment\ninstances:\n  - name: \"es01\"   # the first node\n    dns:\n      - es01\n")

    run = step.run(instances)

    assert run.returncode == 0, run.stderr
    assert run.lines[1] == "es01: generated, because the CA was generated"
    es01 = step.certs / "es01/es01.crt"
    assert openssl("verify", "-CAfile", str(step.certs / "ca/ca.crt"), str(es01)) == f"{es01}: OK\n".encode()


def test_without_the_step_tools_ci_fails_and_elsewhere_the_tests_skip(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    reason = "bash, openssl, keytool, unzip, grep, dpkg-query not on PATH: the certificate step runs on them"
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=f"^CI must run these tests: {reason}$"):
        require_step_tools()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match=f"^{reason}$"):
        require_step_tools()
