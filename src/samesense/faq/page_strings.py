"""The pages' own words: one table a page and a language (page_language.py chooses which).

    STRINGS[page][language][key]    page: "customer" (/, /widget) or "admin" (/admin); language: en, zh

The keys are those the page's template (templates/<page>.html: `strings.key`) and its script
(static/customer.js, static/admin.js: `t("key")` through i18n.js) use; tests/faq/test_page_strings.py
checks that both languages have the same keys and placeholders, and that every key is used and exists.
A string with values in it names them in braces, `{id}`: the script fills them (i18n.js's `t(key,
values)`), so each language puts them where its grammar wants. Chinese is simplified Chinese.
What the server's API says (its `detail` messages, an unanswered question's reason) is not the
page's own and stays as the server sent it.
"""

from __future__ import annotations

from .choices import FALLBACK_TEXT

CUSTOMER = {
    "en": {
        "documentTitle": "FAQ",  # the browser's tab: short, as a team's own site would name it
        "title": "Ask a question",
        "hint": "Answers come from our FAQ.",
        "placeholder": "Type your question",
        "ask": "Ask",
        "noAnswer": "Sorry, we have no confident answer to that question.",
        "fallback": FALLBACK_TEXT,
        "didYouMean": "Did you mean",
        "error": "Something went wrong; please try again.",
    },
    "zh": {
        "documentTitle": "常见问题",
        "title": "提问",
        "hint": "答案来自我们的常见问题。",
        "placeholder": "请输入您的问题",
        "ask": "提问",
        "noAnswer": "抱歉，我们没有把握回答这个问题。",
        "fallback": "请换一种说法，或联系客服。",
        "didYouMean": "您是不是想问",
        "error": "出错了，请重试。",
    },
}

ADMIN = {
    "en": {
        # the page as the server renders it (templates/admin.html)
        "documentTitle": "samesense FAQ: support team",
        "title": "Ask a question",
        "hint": "The support team's view: every answer with its score and the nearest stored questions.",
        "customerViewLink": "What customers see",
        "placeholder": "Type your question",
        "ask": "Ask",
        "didYouMean": "Did you mean",
        "candidatesCaption": "Nearest stored questions",
        "scoreHeading": "score",
        "storedQuestionHeading": "stored question",
        "itsAnswerHeading": "its answer",
        "entryHeading": "entry",
        "adminSummary": "Admin: add, edit and delete entries",
        "tokenLabel": "Token",
        "tokenPlaceholder": "bearer token",
        "unlock": "Unlock",
        "questionLabel": "Question",
        "answerLabel": "Answer",
        "paraphrasesLabel": "Paraphrases, one a line",
        "tagsLabel": "Tags, comma-separated",
        "addEntry": "Add entry",
        "cancel": "Cancel",
        "filterLabel": "Filter",
        "filterPlaceholder": "text in a question or answer",
        "idHeading": "id",
        "questionHeading": "question",
        "answerHeading": "answer",
        "previous": "Previous",
        "next": "Next",
        "perPage": "Per page",
        "unansweredHeading": "Questions given no answer",
        "unansweredHint": "Assign a question to the entry that answers it (it becomes a paraphrase; its nearest "
                          "entries come first), add it as an entry, or dismiss it: it leaves this list and stays "
                          "in the log.",
        "askedHeading": "asked",
        "reasonHeading": "why no answer",
        "assignHeading": "assign to entry",
        "refresh": "Refresh",
        # what admin.js shows later
        "readOnlySummary": "Support team: the questions given no answer (read-only server)",
        "readOnlyHint": "This server is read-only: the questions are listed, most asked first, with the entries "
                        "they came nearest to; assign, add and dismiss them on a writable server.",
        "nearestHeading": "nearest entries",
        "matched": "matched \"{question}\" (score {score})",
        "noConfidentAnswer": "No confident answer",
        "fallback": CUSTOMER["en"]["fallback"],  # what a customer is told, as the customer page says it
        "saveEntry": "Save entry {id}",
        "deletedEntry": "Deleted entry {id}.",
        "savedEntry": "Saved entry {id}.",
        "addedEntry": "Added entry {id}.",
        "edit": "Edit",
        "delete": "Delete",
        "noneShown": "none",
        "pageRange": "{range} of {total}",
        "pageRangeFiltered": "{range} of {total} holding \"{filter}\"",
        "anotherEntry": "another entry, by id:",
        "assign": "Assign",
        "chooseEntry": "Choose the entry that answers it.",
        "assigned": "\"{question}\" is now a paraphrase of entry {id}.",
        "addAsEntry": "Add as entry",
        "dismiss": "Dismiss",
        "dismissed": "Dismissed \"{question}\".",
        "oneQuestion": "{count} distinct question",
        "manyQuestions": "{count} distinct questions",
        "oneTime": "{count} time",
        "manyTimes": "{count} times",
        "unansweredCount": "{questions}, asked {times}; the most asked first.",
        "noLog": "This server keeps no log of the questions it could not answer.",
        "wrongToken": "Wrong token.",
    },
    "zh": {
        "documentTitle": "samesense 常见问题：客服团队",
        "title": "提问",
        "hint": "客服团队的视图：每个答案都附有得分和最接近的已存问题。",
        "customerViewLink": "客户看到的页面",
        "placeholder": "请输入您的问题",
        "ask": "提问",
        "didYouMean": "您是不是想问",
        "candidatesCaption": "最接近的已存问题",
        "scoreHeading": "得分",
        "storedQuestionHeading": "已存问题",
        "itsAnswerHeading": "其答案",
        "entryHeading": "条目",
        "adminSummary": "管理：添加、编辑和删除条目",
        "tokenLabel": "令牌",
        "tokenPlaceholder": "访问令牌",
        "unlock": "解锁",
        "questionLabel": "问题",
        "answerLabel": "答案",
        "paraphrasesLabel": "同义问法，每行一个",
        "tagsLabel": "标签，用逗号分隔",
        "addEntry": "添加条目",
        "cancel": "取消",
        "filterLabel": "筛选",
        "filterPlaceholder": "问题或答案中的文字",
        "idHeading": "编号",
        "questionHeading": "问题",
        "answerHeading": "答案",
        "previous": "上一页",
        "next": "下一页",
        "perPage": "每页",
        "unansweredHeading": "未能回答的问题",
        "unansweredHint": "把问题归入能回答它的条目（成为同义问法；最接近的条目排在前面），添加为新条目，"
                          "或忽略它：它会离开此列表，但仍保留在日志中。",
        "askedHeading": "次数",
        "reasonHeading": "未回答的原因",
        "assignHeading": "归入条目",
        "refresh": "刷新",
        "readOnlySummary": "客服团队：未能回答的问题（只读服务器）",
        "readOnlyHint": "此服务器为只读：问题按提问次数从多到少列出，并附有最接近的条目；"
                        "请在可写的服务器上归入、添加或忽略它们。",
        "nearestHeading": "最接近的条目",
        "matched": "匹配到“{question}”（得分 {score}）",
        "noConfidentAnswer": "没有有把握的答案",
        "fallback": CUSTOMER["zh"]["fallback"],
        "saveEntry": "保存条目 {id}",
        "deletedEntry": "已删除条目 {id}。",
        "savedEntry": "已保存条目 {id}。",
        "addedEntry": "已添加条目 {id}。",
        "edit": "编辑",
        "delete": "删除",
        "noneShown": "无",
        "pageRange": "{range}，共 {total} 条",
        "pageRangeFiltered": "{range}，含“{filter}”的共 {total} 条",
        "anotherEntry": "其他条目，按编号：",
        "assign": "归入",
        "chooseEntry": "请选择能回答它的条目。",
        "assigned": "“{question}”现在是条目 {id} 的同义问法。",
        "addAsEntry": "添加为条目",
        "dismiss": "忽略",
        "dismissed": "已忽略“{question}”。",
        "oneQuestion": "{count} 个不同的问题",
        "manyQuestions": "{count} 个不同的问题",
        "oneTime": "{count} 次",
        "manyTimes": "{count} 次",
        "unansweredCount": "{questions}，共被问 {times}；问得最多的在前。",
        "noLog": "此服务器不记录它未能回答的问题。",
        "wrongToken": "令牌错误。",
    },
}

STRINGS = {"customer": CUSTOMER, "admin": ADMIN}
LANGUAGES = tuple(CUSTOMER)  # the languages the pages have (each page: a table for each)
