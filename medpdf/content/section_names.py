"""The standard section headings and the disclaimer label in each shipped language.

A translated monograph is written with headings in its own language
(``### Efectos secundarios``, ``### 副作用``, ``### الآثار الجانبية``);
:mod:`medpdf.content.model` recognises these as well as the English names, whatever
the monograph's ``lang:``, and ``check`` reports any other heading as
unknown, as it does for English. Names are compared case-folded, with runs of
spaces collapsed and typographic apostrophes straightened. Keys are
:class:`medpdf.content.model.SectionKind` names.

The handout prints its own headings from the message catalogs, not these.
"""

from __future__ import annotations

#: Lower-case heading -> SectionKind name, per language (English lives in model.py).
TRANSLATED_HEADINGS: dict[str, dict[str, str]] = {
    "es": {
        "nombre genérico": "GENERIC_NAME",
        "nombres genéricos": "GENERIC_NAME",
        "principio activo": "GENERIC_NAME",
        "uso": "USAGE",
        "usos": "USAGE",
        "indicaciones": "USAGE",
        "para qué se usa": "USAGE",
        "dosis": "DOSAGE",
        "posología": "DOSAGE",
        "cómo tomarlo": "DOSAGE",
        "efectos secundarios": "SIDE_EFFECTS",
        "efectos adversos": "SIDE_EFFECTS",
        "cómo funciona": "HOW_IT_WORKS",
        "mecanismo de acción": "HOW_IT_WORKS",
        "precauciones": "PRECAUTIONS",
        "advertencias y precauciones": "PRECAUTIONS",
        "preguntas frecuentes": "FAQS",
    },
    "fr": {
        "nom générique": "GENERIC_NAME",
        "dénomination commune": "GENERIC_NAME",
        "utilisation": "USAGE",
        "utilisations": "USAGE",
        "indications": "USAGE",
        "posologie": "DOSAGE",
        "dose": "DOSAGE",
        "effets secondaires": "SIDE_EFFECTS",
        "effets indésirables": "SIDE_EFFECTS",
        "mode d'action": "HOW_IT_WORKS",
        "comment il agit": "HOW_IT_WORKS",
        "comment ça marche": "HOW_IT_WORKS",
        "précautions": "PRECAUTIONS",
        "mises en garde et précautions": "PRECAUTIONS",
        "questions fréquentes": "FAQS",
        "foire aux questions": "FAQS",
    },
    "pt": {
        "nome genérico": "GENERIC_NAME",
        "uso": "USAGE",
        "usos": "USAGE",
        "indicações": "USAGE",
        "para que serve": "USAGE",
        "dosagem": "DOSAGE",
        "posologia": "DOSAGE",
        "dose": "DOSAGE",
        "efeitos colaterais": "SIDE_EFFECTS",
        "efeitos secundários": "SIDE_EFFECTS",
        "reações adversas": "SIDE_EFFECTS",
        "como funciona": "HOW_IT_WORKS",
        "mecanismo de ação": "HOW_IT_WORKS",
        "precauções": "PRECAUTIONS",
        "advertências e precauções": "PRECAUTIONS",
        "perguntas frequentes": "FAQS",
    },
    "zh": {
        "通用名": "GENERIC_NAME",
        "通用名称": "GENERIC_NAME",
        "用途": "USAGE",
        "适应症": "USAGE",
        "用法用量": "DOSAGE",
        "用法与用量": "DOSAGE",
        "剂量": "DOSAGE",
        "副作用": "SIDE_EFFECTS",
        "不良反应": "SIDE_EFFECTS",
        "作用机制": "HOW_IT_WORKS",
        "药物如何起作用": "HOW_IT_WORKS",
        "注意事项": "PRECAUTIONS",
        "警告和注意事项": "PRECAUTIONS",
        "常见问题": "FAQS",
    },
    "ar": {
        "الاسم العلمي": "GENERIC_NAME",
        "الاسم العام": "GENERIC_NAME",
        "الاستخدام": "USAGE",
        "الاستخدامات": "USAGE",
        "دواعي الاستعمال": "USAGE",
        "الجرعة": "DOSAGE",
        "الجرعات": "DOSAGE",
        "طريقة الاستعمال": "DOSAGE",
        "الآثار الجانبية": "SIDE_EFFECTS",
        "الأعراض الجانبية": "SIDE_EFFECTS",
        "كيف يعمل": "HOW_IT_WORKS",
        "آلية العمل": "HOW_IT_WORKS",
        "الاحتياطات": "PRECAUTIONS",
        "التحذيرات والاحتياطات": "PRECAUTIONS",
        "الأسئلة الشائعة": "FAQS",
    },
}

#: The closing disclaimer's label in each language, as a regular-expression alternation.
#: Only labels that cannot open ordinary prose: Spanish "Aviso:" alone is a warning.
DISCLAIMER_LABELS = (
    r"(?:important\s+)?disclaimer",
    r"descargo\s+de\s+responsabilidad",
    r"aviso\s+legal",
    r"avis\s+de\s+non-responsabilité",
    r"clause\s+de\s+non-responsabilité",
    r"isenção\s+de\s+responsabilidade",
    r"免责声明",
    r"إخلاء\s+(?:ال)?مسؤولية",
)
