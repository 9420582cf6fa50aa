"""``smartgate consignments import``: CSV and JSON, row-numbered errors, all or nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from smartgate.cli.commands import app
from smartgate.services.desk import CSV_COLUMNS
from smartgate.storage.store import Store
from tests.smartgate.storage.recordkit import container, declaration

runner = CliRunner()


def csv_row(i: int, **over: str) -> dict[str, str]:
    row = {
        "id": f"VN-2026-{i:06d}",
        "container_number": container(i),
        "seal_number": f"ML-{i:07d}",
        "category": "fruit",
        "fruit_kind": "durian",
        "temp_min_c": "2",
        "temp_max_c": "5",
        "direction": "export",
        "corridor": "huu-nghi",
        "customs_declaration": f"{305000000000 + i}",
        "gross_weight_kg": "24500",
        "priority": "",
        "quarantine_certificate": f"KD-{i}",
        "lab_cadmium": "LAB-C",
        "lab_auramine_o": "",
    }
    row.update(over)
    return row


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    return path


def run(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, ["consignments", "import", *args, "--db", f"sqlite:///{tmp_path}/i.db"])
    return r.exit_code, r.stdout, r.stderr


def stored(tmp_path: Path) -> dict[str, str]:
    s = Store(f"sqlite:///{tmp_path}/i.db")
    try:
        return {r.id: r.consignment.goods.fruit_kind or "" for r in s.consignments()}
    finally:
        s.close()


def test_csv_all_or_nothing_with_row_numbers(tmp_path: Path) -> None:
    bad = write_csv(
        tmp_path / "bad.csv",
        [csv_row(1), csv_row(2, gross_weight_kg="heavy"), csv_row(3, corridor="lao-cai")],
    )
    code, out, err = run(tmp_path, str(bad))
    assert code == 1
    assert "row 3: declaration 'VN-2026-000002' rejected" in err and "gross_weight_kg" in err
    assert "row 4:" in err and "lao-cai" in err and "nothing imported" in err
    assert stored(tmp_path) == {}
    code, out, err = run(tmp_path, str(bad), "--skip-bad")
    assert code == 1 and "imported 1, already there 0, skipped 2" in out
    assert stored(tmp_path) == {"VN-2026-000001": "durian"}


def test_csv_then_json_resend_is_idempotent(tmp_path: Path) -> None:
    good = write_csv(
        tmp_path / "good.csv",
        [
            csv_row(1),
            csv_row(
                2,
                category="electronics",
                fruit_kind="",
                temp_min_c="",
                temp_max_c="",
                lab_cadmium="",
            ),
        ],
    )
    assert run(tmp_path, str(good))[0] == 0
    s = Store(f"sqlite:///{tmp_path}/i.db")
    rec = s.consignment("VN-2026-000001")
    s.close()
    assert rec is not None and rec.consignment.goods.temp_max_c == 5.0
    assert str(rec.consignment.lab_certificates) == "{<LabTest.CADMIUM: 'cadmium'>: 'LAB-C'}"
    js = tmp_path / "more.json"
    js.write_text(json.dumps([declaration(3), declaration(4)]))
    code, out, _ = run(tmp_path, str(js))
    assert code == 0 and "imported 2, already there 0" in out
    code, out, _ = run(tmp_path, str(good))
    assert code == 0 and "imported 0, already there 2" in out
    assert len(stored(tmp_path)) == 4
    # Duplicates within one file, and a conflict with what is stored, are bad rows too.
    clash = tmp_path / "clash.json"
    clash.write_text(
        json.dumps([declaration(5), declaration(5), declaration(3, seal_number="X-1")])
    )
    code, _, err = run(tmp_path, str(clash))
    assert code == 1 and "row 2: 305000000005 is also in row 1" in err
    assert "row 3: declaration conflicts with consignment VN-2026-000003" in err
    assert len(stored(tmp_path)) == 4


def test_unknown_csv_column(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("id,colour\nA,red\n")
    code, _, err = run(tmp_path, str(p))
    assert code == 1 and "row 1: unknown column(s) colour" in err
