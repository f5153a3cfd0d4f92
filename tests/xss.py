"""Hostile feed content: what a feed's author could put in a summary, a title or a link.

Every payload that can run calls `alert("xss-N")` or `console.error("xss-N")`, so a
browser test sees it through its dialog and console listeners. Some run as soon as the
page loads (event handlers on loading elements, scripts); the rest need a click (links,
form buttons), which the tests perform.
"""

from __future__ import annotations

CORPUS: tuple[str, ...] = (
    '<script>alert("xss-1")</script>',
    '<img src="x" onerror="alert(\'xss-2\')">',
    '<svg onload="alert(\'xss-3\')"><circle r="4"/></svg>',
    '<svg><script>alert("xss-4")</script></svg>',
    '<svg><a xlink:href="javascript:alert(\'xss-5\')"><text y="20">svg link</text></a></svg>',
    '<svg><animate onbegin="alert(\'xss-6\')" attributeName="x" dur="1s"/></svg>',
    "<a href=\"javascript:alert('xss-7')\">plain javascript link</a>",
    "<a href=\"jav&#x61;script:alert('xss-8')\">entity-encoded javascript link</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert('xss-9')\">"
    "fully encoded link</a>",
    "<a href=\"JaVaScRiPt:alert('xss-10')\">mixed case link</a>",
    "<a href=\"java\tscript:alert('xss-11')\">tab in the scheme</a>",
    "<a href=\" javascript:alert('xss-12')\">leading space</a>",
    "<a href=\"data:text/html,<script>alert('xss-13')</script>\">data link</a>",
    "<iframe src=\"javascript:alert('xss-14')\"></iframe>",
    "<iframe srcdoc=\"<script>parent.alert('xss-15')</script>\"></iframe>",
    "<form action=\"javascript:alert('xss-16')\"><button>form button</button></form>",
    "<form><button formaction=\"javascript:alert('xss-17')\">formaction</button></form>",
    "<details open ontoggle=\"alert('xss-18')\"><summary>s</summary>d</details>",
    "<input autofocus onfocus=\"alert('xss-19')\">",
    "<p onclick=\"alert('xss-20')\" onmouseover=\"alert('xss-21')\">a paragraph with handlers</p>",
    "<object data=\"javascript:alert('xss-22')\"></object>",
    "<embed src=\"javascript:alert('xss-23')\">",
    "<math><mtext><table><mglyph><style><img src=x onerror=\"alert('xss-24')\">"
    "</style></mglyph></table></mtext></math>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert('xss-25')>\"></noscript>",
    "<style>@import \"javascript:alert('xss-26')\";</style>styled",
    '<base href="javascript:alert(\'xss-27\')//"><a href="relative">relative link</a>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(\'xss-28\')">',
    "<video><source onerror=\"alert('xss-29')\"></video>",
    '<a href="https://example.org/ok" onclick="alert(\'xss-30\')">a good link with a handler</a>',
    '"><script>alert("xss-31")</script>',
    "</textarea><script>alert('xss-32')</script>",
    "<img src=x onerror=\"console.error('xss-33')\">",
)

# A title or a name is text: inserted escaped, never parsed.
HOSTILE_TEXT = '<script>alert("xss-title")</script><img src=x onerror=alert("xss-title")>'
