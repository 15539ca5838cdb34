package ui

import (
	"github.com/charmbracelet/glamour"
	"github.com/charmbracelet/glamour/ansi"
	"github.com/charmbracelet/glamour/styles"
	"github.com/muesli/termenv"
)

// Markdown prints Markdown for its destination: styled by glamour on a
// colour terminal, laid out as plain text on a terminal under NO_COLOR
// (no colour and none of Markdown's markers: no **, no backticks, no #),
// and as the Markdown source itself when piped (so it can be saved or
// grepped). The style is fixed: dojo never asks the terminal for its
// background colour, a question a terminal may never answer.
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
	style, profile := glamour.WithStyles(plainStyle()), termenv.Ascii
	if color {
		style, profile = glamour.WithStandardStyle(styles.DarkStyle), termenv.ANSI256
	}
	r, err := glamour.NewTermRenderer(
		style,
		glamour.WithColorProfile(profile),
		glamour.WithWordWrap(width-2),
		glamour.WithEmoji(),
	)
	if err != nil {
		return "", err
	}
	return r.Render(md)
}

// plainStyle is glamour's style for a terminal without colour, less the
// Markdown markers it keeps: emphasis, inline code and heading marks. Text
// reads as text; code blocks, lists and indentation stay.
func plainStyle() ansi.StyleConfig {
	st := styles.NoTTYStyleConfig
	for _, p := range []*ansi.StylePrimitive{&st.Emph, &st.Strong, &st.Strikethrough, &st.Code.StylePrimitive} {
		p.BlockPrefix, p.BlockSuffix = "", ""
	}
	for _, h := range []*ansi.StyleBlock{&st.H1, &st.H2, &st.H3, &st.H4, &st.H5, &st.H6} {
		h.Prefix = ""
	}
	return st
}
