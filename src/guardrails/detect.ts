// The guardrail detectors: local, deterministic and network-free. Each returns a score in [0, 1] and
// what matched; the settings' threshold is applied to the score (guardrails/service.ts).
//
// Prompt injection and leakage score a text against weighted patterns of known attacks. Each pattern
// is evidence on its own; several are combined as independent evidence (noisy-OR:
// score = 1 - Π(1 - wᵢ) over the distinct patterns that match), so "ignore all previous instructions"
// alone scores 0.9 and adding "and reveal the system prompt" (0.8) makes it 0.98. A pattern counts
// once however often it matches, so repeating a phrase does not raise the score.

export interface Detection {
  score: number;
  /** Names of the patterns (or banned words) that matched. */
  matched: string[];
}

interface Pattern { name: string; weight: number; re: RegExp }

const INSTR = String.raw`(?:instructions?|prompts?|rules|directions|guidelines|directives|context|messages?)`;

/** Attempts to override the operator's instructions or the model's role. */
const INJECTION: Pattern[] = [
  { name: 'override_instructions', weight: 0.9,
    re: new RegExp(String.raw`\b(?:ignore|disregard|forget|skip|override|overrule|bypass|discard)\b[^.\n]{0,40}?\b(?:previous|prior|above|earlier|preceding|all|any|your|the|these|those|system|initial|original|existing)\b[^.\n]{0,30}?\b${INSTR}`, 'i') },
  { name: 'reveal_system_prompt', weight: 0.8,
    re: /\b(?:reveal|show|print|display|repeat|output|tell me|give me|write out|leak|dump|what (?:is|are|was|were))\b[^.\n]{0,40}?\b(?:system|hidden|initial|original|developer|secret)\s+(?:prompt|instructions?|message|rules)\b/i },
  { name: 'role_override', weight: 0.6,
    re: /\b(?:you are now|from now on,? you(?: are| will)?|act as|pretend (?:to be|you are)|roleplay as)\b[^.\n]{0,60}?\b(?:dan|unrestricted|unfiltered|uncensored|jailbroken|evil|no (?:rules|restrictions|limits|filters)|without (?:any )?(?:restrictions|rules|limits|filters))\b/i },
  { name: 'jailbreak_terms', weight: 0.5, re: /\b(?:jailbreak(?:ing|en)?|do anything now|developer mode|god mode|dan mode)\b/i },
  { name: 'new_instructions', weight: 0.5, re: /\b(?:new|updated|real|actual|true|revised)\s+(?:instructions?|system prompt|rules)\s*[:\-]/i },
  { name: 'fake_role_markers', weight: 0.6, re: /<\|im_start\|>|<\|system\|>|\[\/?INST\]|<<SYS>>|^\s*(?:system|assistant)\s*:|#{2,}\s*(?:system|instruction)/im },
  { name: 'safety_bypass', weight: 0.5,
    re: /\b(?:disable|turn off|bypass|circumvent|ignore|deactivate)\b[^.\n]{0,30}?\b(?:safety|filters?|guardrails?|moderation|content polic(?:y|ies)|restrictions|censorship)\b/i },
  { name: 'exfiltration', weight: 0.4,
    re: /\b(?:send|post|upload|exfiltrate|forward)\b[^.\n]{0,40}?(?:https?:\/\/|\bapi keys?\b|\bpasswords?\b|\bcredentials\b|\btokens?\b)/i },
];

/** Leakage: attempts to extract the system/developer prompt, and secrets (key-like strings) in the text. */
const LEAKAGE: Pattern[] = [
  { name: 'reveal_system_prompt', weight: 0.8, re: INJECTION[1].re },
  { name: 'repeat_text_above', weight: 0.7,
    re: /\b(?:repeat|print|output|copy|recite|summari[sz]e)\b[^.\n]{0,30}?\b(?:(?:text|words|everything|all|content)\s+(?:above|before)|(?:your|the)\s+(?:first|initial|starting)\s+(?:message|prompt|instructions?))/i },
  { name: 'ask_instructions', weight: 0.6,
    re: /\bwhat (?:were|are|was) (?:you|your)\b[^.\n?]{0,20}?\b(?:told|instructed|instructions|rules|programmed)\b/i },
  { name: 'secret_openai_key', weight: 1, re: /\bsk-(?:proj-|live-|test-)?[A-Za-z0-9_-]{20,}/ },
  { name: 'secret_aws_key', weight: 1, re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { name: 'secret_github_token', weight: 1, re: /\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{40,}/ },
  { name: 'secret_slack_token', weight: 1, re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { name: 'secret_google_key', weight: 1, re: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { name: 'secret_private_key', weight: 1, re: /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/ },
  { name: 'secret_jwt', weight: 0.8, re: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/ },
  { name: 'secret_assignment', weight: 0.7,
    re: /\b(?:api[_-]?key|secret(?:[_-]?key)?|password|passwd|access[_-]?token|auth[_-]?token)\b["']?\s*[:=]\s*["']?[^\s"']{12,}/i },
];

// The patterns carry no `u` flag on purpose: V8 runs `\b` under /iu about 8x slower (Unicode case folding
// at every boundary), and these patterns need no Unicode classes.
// Zero-width and bidi controls are dropped before matching, so "ig\u200Bnore" is "ignore".
const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\uFEFF]/gu;

function score(text: string, patterns: Pattern[]): Detection {
  const t = text.replace(INVISIBLE, '');
  let keep = 1;
  const matched: string[] = [];
  for (const p of patterns) {
    if (!p.re.test(t)) continue;
    matched.push(p.name);
    keep *= 1 - p.weight;
  }
  return { score: Math.round((1 - keep) * 1000) / 1000, matched };
}

export const injectionScore = (text: string): Detection => score(text, INJECTION);
export const leakageScore = (text: string): Detection => score(text, LEAKAGE);

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * One case-insensitive regex for a list of banned words or phrases, matched as whole words (a letter,
 * digit or _ on either side is not a match: "class" does not contain "ass").
 */
export function banWordsMatcher(words: string[]): (text: string) => Detection {
  const alts = [...new Set(words.map((w) => w.trim().toLowerCase()).filter(Boolean))]
    .sort((a, b) => b.length - a.length).map((w) => escape(w).replace(/\s+/g, '\\s+'));
  const re = new RegExp(`(?<![\\p{L}\\p{N}_])(?:${alts.join('|')})(?![\\p{L}\\p{N}_])`, 'giu');
  return (text) => {
    const found = new Set<string>();
    for (const m of text.replace(INVISIBLE, '').matchAll(re)) found.add(m[0].toLowerCase().replace(/\s+/g, ' '));
    return { score: found.size ? 1 : 0, matched: [...found] };
  };
}
