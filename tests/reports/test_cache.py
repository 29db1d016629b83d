from planner.reports.cache import cache_key, cached


def test_second_request_is_served_from_disk(tmp_path):
    calls = []

    def produce():
        calls.append(1)
        return b"zip bytes"

    key = cache_key({"plan": 1}, ["a"])
    assert cached(tmp_path, key, ".zip", produce) == b"zip bytes"
    assert cached(tmp_path, key, ".zip", produce) == b"zip bytes"
    assert len(calls) == 1
    assert [p.name for p in tmp_path.iterdir()] == [f"{key}.zip"]


def test_key_depends_on_every_part():
    assert cache_key({"plan": 1}, ["a"]) != cache_key({"plan": 2}, ["a"]) != cache_key({"plan": 1}, ["b"])
    assert cache_key({"a": 1, "b": 2}) == cache_key({"b": 2, "a": 1})


def test_unwritable_cache_still_returns_the_bytes(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert cached(blocker, cache_key(1), ".zip", lambda: b"data") == b"data"
