"""The browser harness itself works: a page with a script error and a remote image is caught."""
from browser import visit


def test_harness_sees_console_errors_and_requests(tmp_path):
    page = tmp_path / "p.html"
    page.write_text('<!doctype html><img src="http://127.0.0.1:9/x.png"><script>undefinedFunction()</script>')
    seen = visit(page)
    assert any("undefinedFunction" in e for e in seen.console_errors)
    assert any(url.startswith("http://127.0.0.1:9/") for url in seen.requests)
