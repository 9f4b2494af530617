package synth

// quantizationVersion is GGML_QNT_VERSION, which llama-quantize records.
const quantizationVersion = 2

// metadata lists the keys llama.cpp's load_hparams and vocab loader read for
// s's architecture (llama-arch.cpp names them), in a stable order.
func metadata(s Spec, v *vocab) []kv {
	a := s.Arch + "."
	m := []kv{
		{"general.architecture", s.Arch},
		{"general.name", s.Name},
		{"general.file_type", uint32(s.FileType)},
		{"general.quantization_version", uint32(quantizationVersion)},
		{"general.alignment", uint32(Alignment)},
		{a + "context_length", uint32(s.NCtx)},
		{a + "embedding_length", uint32(s.NEmbd)},
		{a + "block_count", uint32(s.NLayer)},
		{a + "feed_forward_length", uint32(s.NFF)},
		{a + "attention.head_count", uint32(s.NHead)},
		{a + "attention.head_count_kv", uint32(s.NHeadKV)},
	}
	switch s.Arch {
	case ArchFalcon, ArchOLMo:
		m = append(m, kv{a + "attention.layer_norm_epsilon", s.NormEps})
	default:
		m = append(m, kv{a + "attention.layer_norm_rms_epsilon", s.NormEps})
	}
	if s.Arch != ArchFalcon {
		m = append(m, kv{a + "rope.freq_base", s.RopeTheta})
	}
	if s.Arch == ArchLlama {
		// llama.cpp requires n_rot == head size for llama.
		m = append(m,
			kv{a + "rope.dimension_count", uint32(s.NEmbd / s.NHead)},
			kv{a + "vocab_size", uint32(len(v.tokens))})
	}
	if s.NExpert > 0 {
		m = append(m,
			kv{a + "expert_count", uint32(s.NExpert)},
			kv{a + "expert_used_count", uint32(s.NExpertUsed)})
	}

	m = append(m, kv{"tokenizer.ggml.model", v.model})
	if v.pre != "" {
		m = append(m, kv{"tokenizer.ggml.pre", v.pre})
	}
	m = append(m, kv{"tokenizer.ggml.tokens", v.tokens})
	if v.scores != nil {
		m = append(m, kv{"tokenizer.ggml.scores", v.scores})
	}
	m = append(m, kv{"tokenizer.ggml.token_type", v.types})
	if v.merges != nil {
		m = append(m, kv{"tokenizer.ggml.merges", v.merges})
	}
	m = append(m,
		kv{"tokenizer.ggml.bos_token_id", uint32(v.bos)},
		kv{"tokenizer.ggml.eos_token_id", uint32(v.eos)})
	if v.unk >= 0 {
		m = append(m, kv{"tokenizer.ggml.unknown_token_id", uint32(v.unk)})
	}
	m = append(m,
		kv{"tokenizer.ggml.add_bos_token", v.addBOS},
		kv{"tokenizer.ggml.add_eos_token", false})
	if s.ChatTemplate != "" {
		m = append(m, kv{"tokenizer.chat_template", s.ChatTemplate})
	}
	return m
}
