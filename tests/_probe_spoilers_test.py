from test_browser_spoilers import *  # noqa

@pytest.mark.browser
def test_probe(site, open_context):
    page = open_context(java_script_enabled=False, bypass_csp=True).new_page()
    page.goto(site.url(f"/articles/{ARTICLE}"))
    page.evaluate("() => { " + AXE.read_text() + "\n window.axe = axe; }")
    for state in ("concealed", "revealed"):
        if state == "revealed":
            page.locator("span.spoiler").first.focus()
        print(state, page.evaluate(AXE_RUN))
