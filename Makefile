# medpdf set-up and checks. Two commands on a fresh Debian machine (as root):
#   make        installs everything (system libraries, fonts, Python venv) and builds output/
#   make test   installs the same, then runs ruff, mypy and the test suite
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

.PHONY: all setup bytecode build test test-fast lint pytest clean messages catalogs-update catalogs readme

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

# The README's generated sections (the options a variant may set) from medpdf/settings/options.py;
# tests/test_option_docs.py fails while they differ.
readme: $(STAMPS)/venv
	$(BIN)/python -m medpdf.settings.option_docs README.md

build: setup
	$(BIN)/medpdf build --content content

lint: setup
	$(BIN)/ruff check medpdf tests benchmarks
	$(BIN)/ruff format --check medpdf tests benchmarks
	$(BIN)/mypy

pytest: setup
	$(BIN)/python -m pytest -n 2

test: lint pytest

# The unit tier: every test but those marked browser, cups, cluster, corpus or slow
# (pyproject.toml), for quick runs while working; `make test` (and CI) still runs them all.
FAST_TIER := not (browser or cups or cluster or corpus or slow)

test-fast: setup
	$(BIN)/python -m pytest -n 2 -m "$(FAST_TIER)"

clean:
	rm -rf output $(STAMPS) .pytest_cache .mypy_cache .ruff_cache node_modules
