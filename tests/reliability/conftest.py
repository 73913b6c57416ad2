from tests.support.collector import collector_factory  # noqa: F401  (fixture)
