package ui

import (
	"github.com/charmbracelet/glamour"
	"github.com/muesli/termenv"
)

// Markdown prints Markdown for its destination: styled by glamour on a
// colour terminal, laid out without colour on a terminal under NO_COLOR,
// and as the Markdown source itself when piped (so it can be saved or
// grepped).
func Markdown(md string, s *IOStreams) (string, error) {
	if !s.IsStdoutTTY() {
		return md, nil
	}
	return RenderMarkdown(md, s.ColorEnabled(), s.Width())
}

// RenderMarkdown lays Markdown out for a terminal of the given width.
func RenderMarkdown(md string, color bool, width int) (string, error) {
	if width <= 0 || width > 100 {
		width = min(max(width, 40), 100)
	}
	style, profile := "notty", termenv.Ascii
	if color {
		style, profile = "dark", termenv.ANSI256
	}
	r, err := glamour.NewTermRenderer(
		glamour.WithStandardStyle(style),
		glamour.WithColorProfile(profile),
		glamour.WithWordWrap(width-2),
		glamour.WithEmoji(),
	)
	if err != nil {
		return "", err
	}
	return r.Render(md)
}
