"""Numbers from the environment: a wrong one names its variable (dashboard/settings.py)."""
from datetime import timedelta

import pytest

from dashboard.settings import from_env


def test_numbers_are_read():
    s = from_env({"GRIDCC_SESSION_HOURS": "8", "GRIDCC_LIVE_MAX_STREAMS": "64", "GRIDCC_WEBHOOK_TRIES": " 3 ",
                  "GRIDCC_ALERT_EVERY_S": "12.5"})
    assert s.session_lifetime == timedelta(hours=8) and s.live_max_streams == 64
    assert s.webhook_tries == 3 and s.alert_every_s == 12.5


def test_unset_numbers_keep_their_defaults():
    s = from_env({})
    assert s.webhook_tries == 6 and s.alert_every_s == 30


@pytest.mark.parametrize("name, text, says", [
    ("GRIDCC_ALERT_EVERY_S", "thirty", "is not a number"),
    ("GRIDCC_WEBHOOK_TRIES", "2.5", "is not a whole number"),
    ("GRIDCC_LIVE_MAX_STREAMS", "-4", "at least 0"),
    ("GRIDCC_SESSION_HOURS", "nan", "finite"),
    ("GRIDCC_SESSION_IDLE_MINUTES", "inf", "finite"),
    ("GRIDCC_SESSION_RECHECK_S", "1x" * 300, "not a number"),
    ("GRIDCC_ALERT_EVERY_S", "1" * 500, "finite"),
])
def test_a_wrong_number_names_its_variable(name, text, says):
    with pytest.raises(ValueError) as refused:
        from_env({name: text})
    assert name in str(refused.value) and says in str(refused.value)
    assert len(str(refused.value)) < 200  # an oversized value is cut, not echoed whole
