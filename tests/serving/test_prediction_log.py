import threading

from mlops_assets.serving.prediction_log import PredictionLog


def _record(i):
    return {"entity_id": i, "arm": "champion", "score": i / 100, "event_day": "2026-01-22"}


def test_records_become_visible_to_readers_only_once_flushed(tmp_path):
    log = PredictionLog(tmp_path, flush_every=1_000)
    log.append(_record(1))
    assert log.read().empty
    log.flush()
    assert log.read()["entity_id"].tolist() == [1]


def test_a_full_buffer_flushes_itself(tmp_path):
    log = PredictionLog(tmp_path, flush_every=10)
    log.extend([_record(i) for i in range(5)])
    assert log.read().empty
    log.extend([_record(i) for i in range(5, 25)])
    assert len(log.read()) == 25


def test_concurrent_writers_lose_no_record(tmp_path):
    log = PredictionLog(tmp_path, flush_every=7)
    threads = [
        threading.Thread(target=lambda k=k: [log.append(_record(k * 1000 + i)) for i in range(200)]) for k in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.flush()
    assert sorted(log.read()["entity_id"]) == sorted(k * 1000 + i for k in range(4) for i in range(200))


def test_a_stray_temporary_file_from_a_killed_writer_is_never_read(tmp_path):
    log = PredictionLog(tmp_path)
    log.append(_record(1))
    chunk = log.flush()
    (chunk.parent / ".chunk-half-written.parquet.tmp").write_bytes(b"PAR1 truncated")
    assert len(log.read()) == 1


def test_a_column_null_in_one_chunk_and_numeric_in_another_reads_as_numbers(tmp_path):
    log = PredictionLog(tmp_path)
    log.append(_record(1) | {"tenure_months": None, "plan": None})
    log.flush()
    log.append(_record(2) | {"tenure_months": 12.5, "plan": "basic"})
    log.flush()
    frame = log.read()
    assert frame["entity_id"].tolist() == [1, 2]
    assert frame["tenure_months"].dtype == "float64"
    assert frame["tenure_months"].isna().tolist() == [True, False]
    assert frame["plan"].tolist() == [None, "basic"]
