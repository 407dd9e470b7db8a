# medpdf set-up and checks. Two commands on a fresh Debian machine (as root):
#   make        installs everything (system libraries, fonts, Python venv) and builds output/
#   make test   installs the same, then runs ruff, mypy, the strict docs build and the test suite
# Re-runs are cheap: each step leaves a stamp in .make/ and is redone only when its inputs change.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMPS := .make
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# System packages WeasyPrint and the handouts need (Debian 12 names):
#   Pango/HarfBuzz/fontconfig for text layout, libharfbuzz-subset0 for fast font
#   subsetting (about 3x faster handouts), DejaVu fonts (the handout typeface),
#   poppler-utils (pdftoppm/pdftotext, to look at what was built),
#   zbar-tools (zbarimg: the tests check that the printed QR code scans),
#   cups cups-client printer-driver-cups-pdf (`medpdf print` talks to CUPS with lp/lpstat;
#   the printing test starts its own private CUPS daemon with a cups-pdf virtual printer and
#   reads back the PDF it prints. In a container without systemd the postinst scripts start
#   no service and the install still succeeds; on a systemd host it enables cups.service),
#   chromium (tests/test_browser.py drives it headless through Playwright against
#   `medpdf serve`; Playwright's own browser download is not used),
#   fonts-noto-core fonts-noto-cjk (the font stacks of styles/fonts.css: Arabic, Hebrew,
#   Devanagari, Thai... and Chinese/Japanese/Korean text, so no character prints as a box),
#   libicu-dev pkg-config g++ (PyICU, the booklet's collation, compiles against the system ICU).
APT_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 \
                fontconfig fonts-dejavu-core fonts-dejavu-extra poppler-utils zbar-tools \
                cups cups-client printer-driver-cups-pdf chromium \
                fonts-noto-core fonts-noto-cjk \
                libicu-dev pkg-config g++

.PHONY: all setup bytecode build test test-fast lint pytest docs docs-check docs-screenshots \
        docs-pictures clean messages catalogs-update catalogs option-docs

all: build

setup: $(STAMPS)/system $(STAMPS)/venv $(STAMPS)/npm catalogs bytecode

$(STAMPS)/system: Makefile
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(APT_PACKAGES)
	# npm installs axe-core for the accessibility test; Debian's nodejs and npm unless a
	# Node.js with npm is already there (Debian's npm would replace it).
	command -v npm >/dev/null || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
	fc-cache -f >/dev/null
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/venv: pyproject.toml $(STAMPS)/system
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,cluster]'  # cluster: the Dask tests need it
	@mkdir -p $(STAMPS) && touch $@

# axe-core, the accessibility engine tests/test_accessibility.py injects into Chromium to
# audit the station's pages: the version package-lock.json pins, from the npm registry,
# into node_modules/ (no install scripts run).
$(STAMPS)/npm: package.json package-lock.json $(STAMPS)/system
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@mkdir -p $(STAMPS) && touch $@

# pip byte-compiles the packages it installs, but not the code of an editable install;
# compile medpdf's own modules here (only changed ones: compileall compares times), since
# Python reads .pyc files even where PYTHONDONTWRITEBYTECODE keeps it from writing them.
bytecode: $(STAMPS)/venv
	$(BIN)/python -m compileall -q medpdf

# Message catalogs (medpdf/i18n.py): `messages` extracts every translatable string of the
# templates into locale/medpdf.pot; `catalogs-update` merges it into each language's .po
# (new strings arrive untranslated: tests/test_i18n.py fails until they are translated);
# `catalogs` compiles the .po files to the .mo files medpdf reads (not committed).
PO_FILES := $(wildcard locale/*/LC_MESSAGES/medpdf.po)
MO_FILES := $(PO_FILES:.po=.mo)

messages: $(STAMPS)/venv
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output -w 100 --project=medpdf \
	    --copyright-holder="medpdf contributors" -o locale/medpdf.pot .

catalogs-update: messages
	$(BIN)/pybabel update -i locale/medpdf.pot -d locale -D medpdf -w 100 --ignore-obsolete

catalogs: $(MO_FILES)

locale/%/LC_MESSAGES/medpdf.mo: locale/%/LC_MESSAGES/medpdf.po $(STAMPS)/venv
	$(BIN)/pybabel compile -d locale -D medpdf -l $*

# The docs' generated section (the options a variant may set, in docs/running/cluster.md)
# from medpdf/settings/options.py; tests/test_option_docs.py fails while they differ.
option-docs: $(STAMPS)/venv
	$(BIN)/python -m medpdf.settings.option_docs docs/running/cluster.md

# The documentation site (mkdocs.yml, docs/) into site/; the Reference pages are made from
# the click commands and the option table by docs/hooks/reference.py on every build.
# `docs-check` (part of `make test`) builds it with --strict: a broken link or anchor, a
# missing picture or a page left out of the nav fails.
MKDOCS := NO_MKDOCS_2_WARNING=1 PYTHONPATH=$(CURDIR) $(BIN)/mkdocs

docs: setup
	$(MKDOCS) build --clean --site-dir site

docs-check: setup
	$(MKDOCS) build --strict --clean --site-dir $(STAMPS)/site-check

# The nurse's guide's pictures, taken by the browser tests (tests/docs_screenshots.py).
docs-screenshots: setup
	MEDPDF_DOCS_SCREENSHOTS=docs/images/station $(BIN)/python -m pytest -q -n 0 \
	    tests/test_browser.py tests/test_browser_pack.py tests/test_browser_accounts.py \
	    -k "keyboard_options or print_button or pack or log_in"

# The README's pictures: page 1 of a real handout and of a real pack (invented medicines).
docs-pictures: setup
	tmp=$$(mktemp -d) && \
	$(BIN)/medpdf handout alefacept --content content -o $$tmp/handout.pdf && \
	$(BIN)/medpdf pack klemorex zorvatin pallidone-quessar --content tests/fixtures/pack \
	    --take klemorex=morning,evening --take zorvatin=bedtime --note klemorex="with food" \
	    -o $$tmp/pack.pdf && \
	pdftoppm -png -f 1 -l 1 -singlefile -scale-to 600 $$tmp/handout.pdf docs/images/handout-page && \
	pdftoppm -png -f 1 -l 1 -singlefile -scale-to 600 $$tmp/pack.pdf docs/images/pack-page && \
	rm -r $$tmp

build: setup
	$(BIN)/medpdf build --content content

lint: setup
	$(BIN)/ruff check medpdf tests benchmarks docs/hooks
	$(BIN)/ruff format --check medpdf tests benchmarks docs/hooks
	$(BIN)/mypy

pytest: setup
	$(BIN)/python -m pytest -n 2

test: lint docs-check pytest

# The unit tier: every test but those marked browser, cups, cluster, corpus or slow
# (pyproject.toml), for quick runs while working; `make test` (and CI) still runs them all.
FAST_TIER := not (browser or cups or cluster or corpus or slow)

test-fast: setup
	$(BIN)/python -m pytest -n 2 -m "$(FAST_TIER)"

clean:
	rm -rf output site $(STAMPS) .pytest_cache .mypy_cache .ruff_cache node_modules
