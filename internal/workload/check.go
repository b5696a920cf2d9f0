package workload

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Check reads a prompt source as a run would and says what is wrong with it before any server
// starts: a file that holds no prompt (empty, only "---" separators, only comments), text that
// is not UTF-8, binary content. Errors name the file and the line. It returns the longest
// prompt in tokens, for comparing with the model's context: counted by tok as the run will, or
// approximately (tokens.Count) when tok is nil.
func Check(src Source, tok Counter) (longest int, err error) {
	switch src.Kind {
	case KindRandom:
		return src.InTokens, nil
	case KindText, KindShareGPT:
	default:
		return 0, fmt.Errorf("prompts %s: unknown kind %q", src.Name, src.Kind)
	}
	data, err := readPromptFile(src.Path)
	if err != nil {
		return 0, fmt.Errorf("prompts %s: %w", src.Name, err)
	}
	if err := checkBytes(data); err != nil {
		return 0, fmt.Errorf("prompt file %s: %w", src.Path, err)
	}
	var prompts []Prompt
	if src.Kind == KindText {
		if prompts = textPrompts(ParseText(data)); len(prompts) == 0 {
			return 0, fmt.Errorf("prompt file %s holds no prompt: %s", src.Path, whyEmpty(data))
		}
		if tok != nil {
			Recount(prompts, tok)
		}
	} else if prompts, err = parseShareGPT(data, countsOf(tok)); err != nil {
		return 0, fmt.Errorf("prompt file %s: %w", src.Path, err)
	} else if len(prompts) == 0 {
		return 0, fmt.Errorf("prompt file %s holds no conversation with a first user turn", src.Path)
	}
	for _, p := range prompts {
		longest = max(longest, p.Tokens)
	}
	return longest, nil
}

// checkBytes refuses text that is not UTF-8 (a Latin-1 file would be sent as replacement
// characters) and binary content (NUL and other control bytes), naming the first bad line.
func checkBytes(data []byte) error {
	for i, line := range bytes.Split(data, []byte("\n")) {
		if !utf8.Valid(line) {
			return fmt.Errorf("line %d is not UTF-8 text: %s (save the file as UTF-8)", i+1, excerpt(line))
		}
		if bad := strings.IndexFunc(string(line), isBinary); bad >= 0 {
			return fmt.Errorf("line %d holds binary content (byte %#02x at column %d): %s (is this a text file?)",
				i+1, line[bad], bad+1, excerpt(line))
		}
	}
	return nil
}

// isBinary is a control character no prompt file holds; tab, CR, form feed and the
// byte-order mark are text.
func isBinary(r rune) bool {
	return unicode.IsControl(r) && r != '\t' && r != '\r' && r != '\f'
}

// whyEmpty says what a text file held instead of prompts.
func whyEmpty(data []byte) string {
	lines := splitLines(data)
	var comments, separators int
	for _, l := range lines {
		switch t := strings.TrimSpace(l); {
		case strings.HasPrefix(t, "#"):
			comments++
		case t == "---":
			separators++
		}
	}
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return "the file is empty (write one prompt per line, or prompts between --- lines)"
	case separators > 0 && comments == 0:
		return fmt.Sprintf("only %d --- separators, with nothing between them", separators)
	case comments > 0 && separators == 0:
		return fmt.Sprintf("only %d comment lines (# …)", comments)
	}
	return "only comments and --- separators"
}

// excerpt quotes at most a short piece of a bad line.
func excerpt(line []byte) string {
	const n = 40
	s := strings.ToValidUTF8(string(line), "\uFFFD")
	if r := []rune(s); len(r) > n {
		return fmt.Sprintf("%q…", string(r[:n]))
	}
	return fmt.Sprintf("%q", s)
}

// MaxPromptFileBytes bounds a prompt file: the largest public datasets are a few hundred MB.
const MaxPromptFileBytes = 4 << 30

// readPromptFile reads a regular file of bounded size: a device (/dev/zero), a pipe or a
// folder named as a prompt file would otherwise read forever or block.
func readPromptFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, st.Mode().Type())
	}
	if st.Size() > MaxPromptFileBytes {
		return nil, fmt.Errorf("%s is %d bytes, over the limit of %d", path, st.Size(), int64(MaxPromptFileBytes))
	}
	return os.ReadFile(path)
}
