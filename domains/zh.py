"""Chinese wording shared by the domains' Chinese generators and re-renderers.

Each domain with a Chinese version (``kk_zh``, ``countdown_zh``, ``lpb_zh``) phrases its
own puzzles; what they share lives here: the two scripts (simplified, traditional), the
role words of Knights and Knaves, and the default R1 prompt a Chinese row carries before
``mdrl prepare`` applies the configured template (``conf/language/zh.yaml`` holds the same
template text; a test keeps the two equal).
"""

from __future__ import annotations

from .base import get_domain

SCRIPTS = ("simplified", "traditional")

# Role words per script: (knight, knave).
ROLES = {"simplified": ("骑士", "骗子"), "traditional": ("騎士", "騙子")}

# Chinese numerals for counts shown in puzzle text (2..12 people or numbers).
NUMERALS = {1: "一", 2: "两", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八", 9: "九", 10: "十",
            11: "十一", 12: "十二"}

# The R1 conversation template in Chinese (the wording of conf/language/zh.yaml's r1 overlay).
R1_TEXT = {
    "simplified": (
        "这是用户与助手之间的对话。用户提出问题，助手来解决。助手先在脑海中思考推理过程，然后向用户给出答案。"
        "推理过程放在 <think> </think> 标签内，答案放在 <answer> </answer> 标签内，"
        "即 <think> 推理过程 </think> <answer> 答案 </answer>。现在用户请你解决{task}。"
        "思考之后，当你最终得出结论时，{instruction}\n用户：{question}\n助手：<think>"
    ),
    "traditional": (
        "這是用戶與助手之間的對話。用戶提出問題，助手來解決。助手先在腦海中思考推理過程，然後向用戶給出答案。"
        "推理過程放在 <think> </think> 標籤內，答案放在 <answer> </answer> 標籤內，"
        "即 <think> 推理過程 </think> <answer> 答案 </answer>。現在用戶請你解決{task}。"
        "思考之後，當你最終得出結論時，{instruction}\n用戶：{question}\n助手：<think>"
    ),
}

# The system turn of chat templates (qwen_chat) in Chinese; the user turn is the bare question.
CHAT_SYSTEM = {
    "simplified": (
        "你是一个乐于助人的助手。助手先在脑海中思考推理过程，然后向用户给出答案。推理过程和答案分别放在 "
        "<think> </think> 和 <answer> </answer> 标签内，即 <think> 推理过程 </think><answer> 答案 </answer>。"
        "现在用户请你解决{task}。思考之后，当你最终得出结论时，{instruction}"
    ),
    "traditional": (
        "你是一個樂於助人的助手。助手先在腦海中思考推理過程，然後向用戶給出答案。推理過程和答案分別放在 "
        "<think> </think> 和 <answer> </answer> 標籤內，即 <think> 推理過程 </think><answer> 答案 </answer>。"
        "現在用戶請你解決{task}。思考之後，當你最終得出結論時，{instruction}"
    ),
}


def check_script(script: str) -> str:
    """``script`` if it is one of :data:`SCRIPTS`; raises ValueError naming the choices."""
    if script not in SCRIPTS:
        raise ValueError(f"script must be one of {', '.join(SCRIPTS)}, got {script!r}")
    return script


def r1_prompt(domain: str, question: str, script: str = "simplified") -> list[dict]:
    """The default Chinese R1 prompt of one row (one user turn), in the domain's own Chinese wording."""
    words = get_domain(domain).words(f"zh-{check_script(script)}")
    text = R1_TEXT[script].format(task=words.task, instruction=words.instruction, question=question.strip())
    return [{"role": "user", "content": text}]
