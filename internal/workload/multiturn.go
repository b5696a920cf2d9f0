package workload

import (
	"fmt"
	"strings"
)

// ParseMultiTurn reads a ShareGPT-style JSON array of conversations and makes one prompt per
// user turn that has a reply: the conversation so far (earlier user turns and the dataset's
// replies, which stand for the server's so that lengths do not depend on the server) and this
// turn, with the reply's length as the output length. Conversation numbers the conversation
// (from 1) and Turn the exchange (from 0). Exchanges shorter than MinShareGPTTokens end their
// conversation there, as vLLM drops them.
func ParseMultiTurn(data []byte) ([]Prompt, error) { return parseMultiTurn(data, approximate()) }

func parseMultiTurn(data []byte, c counts) ([]Prompt, error) {
	entries, err := decodeShareGPT(data)
	if err != nil {
		return nil, err
	}
	var out []Prompt
	conv := 0
	for _, e := range entries {
		turns := e.Conversations
		if len(turns) == 0 {
			turns = e.Messages
		}
		if ps := conversation(turns, conv+1, c); len(ps) > 0 {
			conv++
			out = append(out, ps...)
		}
	}
	return out, nil
}

// conversation makes the prompts of one conversation, numbered conv.
func conversation(turns []turn, conv int, c counts) []Prompt {
	var history []Message
	var out []Prompt
	for i := 0; i+1 < len(turns); i++ {
		who := turns[i].speaker()
		if who != "human" && who != "user" {
			continue
		}
		prompt, reply := turns[i].text(), turns[i+1].text()
		if c.prompt(prompt) < MinShareGPTTokens || c.reply(reply) < MinShareGPTTokens {
			break
		}
		msgs := append(append([]Message(nil), history...), Message{Role: "user", Content: prompt})
		text := transcript(msgs)
		out = append(out, Prompt{Text: text, Tokens: c.prompt(text), MaxTokens: c.reply(reply),
			Messages: msgs, Conversation: conv, Turn: len(out)})
		history = append(msgs, Message{Role: "assistant", Content: reply})
		i++
	}
	return out
}

// transcript writes a conversation as one text for the completions API: the turns in order,
// each after its role.
func transcript(msgs []Message) string {
	if len(msgs) == 1 {
		return msgs[0].Content
	}
	var b strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&b, "%s: %s\n", m.Role, m.Content)
	}
	b.WriteString("assistant:")
	return b.String()
}
