# The browser tests of the portal and the super-app simulator (infra/devstack/e2e/portal_test.go)
# drive Debian's headless Chromium with chromedp. Included by the Makefile; `browser-tools`
# belongs to `tools` (a fresh machine or CI gets Chromium and a CJK font before `make test`).
#
#   make browser-tools        install chromium and a Chinese font when missing
#   make portal-test          only the browser story (against the platform the e2e tests start)
#   make portal-screenshots   the same, writing PNGs of the key pages to infra/devstack/e2e/screenshots/

.PHONY: browser-tools portal-test portal-screenshots

browser-tools: ## install what the browser tests need: Debian's chromium and a CJK font
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qi -e 'wenquanyi' -e 'noto sans cjk' || missing="$$missing fonts-wqy-microhei"; \
	if [ -n "$$missing" ]; then \
		echo "installing for the browser tests:$$missing (Debian packages)…"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

portal-test: browser-tools ## the portal and simulator story in headless Chromium
	cd infra/devstack && $(or $(GO),go) test -count=1 -run 'TestPortalInBrowser' -v ./e2e/

portal-screenshots: browser-tools ## the browser story, writing screenshots to infra/devstack/e2e/screenshots/
	cd infra/devstack && SCREENSHOTS=1 $(or $(GO),go) test -count=1 -run 'TestPortalInBrowser' -v ./e2e/
	@ls infra/devstack/e2e/screenshots/*.png
