.PHONY: setup demo test

setup:
	bash scripts/setup

demo:
	bash scripts/demo

test:
	bash scripts/test
