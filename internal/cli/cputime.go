package cli

// cpuUse is CPU seconds spent, by llmscale itself and by its children.
type cpuUse struct{ selfUser, selfSys, childUser, childSys float64 }

func (a cpuUse) sub(b cpuUse) cpuUse {
	return cpuUse{a.selfUser - b.selfUser, a.selfSys - b.selfSys, a.childUser - b.childUser, a.childSys - b.childSys}
}

func (a cpuUse) total() float64 { return a.selfUser + a.selfSys + a.childUser + a.childSys }
