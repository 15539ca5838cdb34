# Mutation testing (docs/testing.md): gremlins, from the Go module proxy and
# pinned in tools/mutate, mutates the consumer, state, workspace and the colour
# rules, and runs each package's tests against every mutant. Not part of
# `make test`: the consumer's tests run a real Redis, about 16 s a mutant.
GREMLINS := .cache/tools/gremlins

.PHONY: mutate
$(GREMLINS): tools/mutate/go.mod tools/mutate/go.sum
	@mkdir -p $(dir $@)
	cd tools/mutate && $(GO) build -o $(CURDIR)/$@.tmp github.com/go-gremlins/gremlins/cmd/gremlins
	mv $@.tmp $@

mutate: test-deps $(GREMLINS)
	bash scripts/mutate.sh $(GREMLINS) .cache/mutate
