package app

import (
	"encoding/json"
	"testing"
	"time"
)

// The hand-written encoding is exactly what encoding/json gives.
func TestEncodeItemsMatchesJSON(t *testing.T) {
	p := &Producer{prefix: "a1b2c3"}
	created := time.Date(2026, 11, 27, 13, 49, 34, 61000000, time.UTC)
	items := p.encodeItems(98, 3, created)
	for i, it := range items {
		want, _ := json.Marshal(Item{ID: p.itemID(98 + uint64(i)), Created: created})
		if got := string(it.([]byte)); got != string(want) {
			t.Errorf("item %d = %s, want %s", i, got, want)
		}
	}
}
