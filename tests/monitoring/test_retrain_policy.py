from mlops_assets.monitoring.retrain_policy import Finding, retrain_events


def _finding(day="2026-01-22", drifted=True, champion="3", report="data_drift_report"):
    return Finding(report=report, partition=day, drifted=drifted, champion_version=champion, detail="monthly_charges")


def test_a_drifted_report_becomes_one_retrain_event_for_the_current_champion():
    events = retrain_events([_finding()], current_champion="3")
    assert [e.event_id for e in events] == ["drift:champion-v3"]
    assert "2026-01-22" in events[0].reason and "monthly_charges" in events[0].reason


def test_many_days_and_reports_confirming_the_same_drift_are_one_event():
    findings = [_finding("2026-01-22"), _finding("2026-01-23"), _finding(report="prediction_drift_report"), _finding()]
    events = retrain_events(findings, current_champion="3")
    assert len(events) == 1
    assert "2026-01-23" in events[0].reason and "prediction_drift_report" in events[0].reason


def test_reports_without_drift_request_nothing():
    assert retrain_events([_finding(drifted=False)], current_champion="3") == []


def test_findings_about_a_replaced_champion_are_stale():
    assert retrain_events([_finding(champion="2")], current_champion="3") == []


def test_no_champion_means_nothing_to_retrain_against():
    assert retrain_events([_finding()], current_champion=None) == []


def test_concept_and_data_drift_of_one_champion_are_one_retrain_and_a_new_champion_a_new_one():
    findings = [_finding(), _finding(report="concept_drift_report", day=None)]
    events = retrain_events(findings, "3")
    assert [e.event_id for e in events] == ["drift:champion-v3"]
    assert events[0].reason.startswith("concept, data drift")
    assert [e.event_id for e in retrain_events([_finding(champion="4")], "4")] == ["drift:champion-v4"]


def test_the_first_model_is_trained_once_per_feature_version_and_never_beside_a_running_one():
    from mlops_assets.monitoring.retrain_policy import bootstrap_event

    assert bootstrap_event(None, None, 254, retrain_active=False).event_id == "bootstrap:features-254"
    assert bootstrap_event(None, None, None, retrain_active=False) is None, "no features yet"
    assert bootstrap_event(None, None, 254, retrain_active=True) is None
    assert bootstrap_event(None, "1", 254, retrain_active=False) is None, "a challenger awaits its decision"
    assert bootstrap_event("1", None, 254, retrain_active=False) is None, "a champion exists"
