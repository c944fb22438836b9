import duckdb
import pytest

from transforms.warehouse import ModelError, query_model, quote_literal, render, run_model, split_statements


def test_split_respects_quotes_and_comments():
    sql = "-- a; comment\nSELECT 'x;y' AS a;\nSELECT \"c;d\" FROM t; -- tail;\n"
    assert split_statements(sql) == ["-- a; comment\nSELECT 'x;y' AS a", 'SELECT "c;d" FROM t']


def test_comment_only_chunks_are_dropped():
    assert split_statements("-- only a comment;\n;\n") == []


def test_render_quotes_literals_safely():
    assert render("SELECT {{ p }}", {"p": "a'b"}) == "SELECT 'a''b'"
    assert quote_literal("x") == "'x'"
    with pytest.raises(KeyError):
        render("{{ missing }}", {})


def test_run_model_binds_only_used_params():
    con = duckdb.connect()
    run_model(con, "schema/000_ledger")
    assert con.execute("SELECT count(*) FROM ingest_log").fetchone() == (0,)


def test_unknown_model_is_a_clear_error():
    con = duckdb.connect()
    with pytest.raises(ModelError, match="no SQL model 'nope/nothing'"):
        run_model(con, "nope/nothing")
    with pytest.raises(ModelError, match="no SQL model"):
        run_model(con, "../pyproject")


def test_missing_parameter_names_model():
    con = duckdb.connect()
    run_model(con, "schema/000_ledger")
    with pytest.raises(ModelError, match=r"record_file\.sql: no value for parameter"):
        run_model(con, "ledger/record_file", {"sha256": "x"})


def test_query_model_returns_polars_frame_with_params():
    con = duckdb.connect()
    run_model(con, "schema/000_ledger")
    frame = query_model(con, "ledger/known_hashes")
    assert frame.columns == ["sha256"] and frame.height == 0
