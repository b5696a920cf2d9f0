package results

// ReadRequestTimings reads every request file of an output folder as ReadRequestsDir does
// (merged, ordered by worker and sequence number) but only the columns a summary of the
// measured window needs: worker_id, seq, phase, due/sent/end, TTFT, E2E, TPOT, the chunk gaps
// (ours and vLLM's), chunk_tokens, prompt and output tokens, http_status and error_kind. The
// other fields (target, user, prompts, first_token_ns, done_ns, start_unix_ns, the chunk and
// token sources, finish_reason, error, response_id, exp_id) are left zero.
func ReadRequestTimings(dir string) ([]Request, error) {
	cols := timingColumns()
	return readRequestFiles(dir, func(path string) ([]Request, error) { return ReadColumns(path, cols) })
}

// timingColumns are the columns ReadRequestTimings reads.
func timingColumns() []Column[Request] {
	i64, i32 := Int64Field[Request], Int32Field[Request]
	return []Column[Request]{
		i32("worker_id", func(r *Request) *int32 { return &r.WorkerID }),
		i64("seq", func(r *Request) *int64 { return &r.Seq }),
		StringField("phase", func(r *Request) *string { return &r.Phase }),
		i64("due_ns", func(r *Request) *int64 { return &r.DueNs }),
		i64("sent_ns", func(r *Request) *int64 { return &r.SentNs }),
		i64("end_ns", func(r *Request) *int64 { return &r.EndNs }),
		i64("ttft_ns", func(r *Request) *int64 { return &r.TTFTNs }),
		i64("e2e_ns", func(r *Request) *int64 { return &r.E2ENs }),
		i64("tpot_ns", func(r *Request) *int64 { return &r.TPOTNs }),
		{Path: ListPath("itl_ns"), Int64s: func(r *Request, v []int64) { r.ITLNs = v }},
		i64("vllm_ttft_ns", func(r *Request) *int64 { return &r.VLLMTTFTNs }),
		{Path: ListPath("vllm_itl_ns"), Int64s: func(r *Request, v []int64) { r.VLLMITLNs = v }},
		{Path: ListPath("chunk_tokens"), Int32s: func(r *Request, v []int32) { r.ChunkTokens = v }},
		i32("prompt_tokens", func(r *Request) *int32 { return &r.PromptTokens }),
		i32("output_tokens", func(r *Request) *int32 { return &r.OutputTokens }),
		i32("http_status", func(r *Request) *int32 { return &r.HTTPStatus }),
		StringField("error_kind", func(r *Request) *string { return &r.ErrorKind }),
	}
}
