"""The accessibility statement (``accessibility.html``), in the structure of GOV.UK's model statement."""

from __future__ import annotations

import datetime as dt

from safeguarding import escape
from safeguarding.site.page import SiteSettings, _date, _page
from safeguarding.site.record import INDEX_NAME, SITEMAP_NAME

EHRC_TEXT = (
    "The Equality and Human Rights Commission (EHRC) is responsible for enforcing the Public Sector Bodies "
    "(Websites and Mobile Applications) (No. 2) Accessibility Regulations 2018 (the \u2018accessibility "
    "regulations\u2019). If you\u2019re not happy with how we respond to your complaint, contact the "
)


def render_statement(settings: SiteSettings, *, prepared_on: dt.date, sitemap: bool) -> str:
    """``accessibility.html``: the accessibility statement, in the structure of GOV.UK's model statement."""
    e = escape.html
    owner, area = e(settings.owner), e(settings.area_name)
    where = (f' published at <a href="{e(settings.base_url, breakable=False)}/">{e(settings.base_url)}/</a>'
             if settings.base_url else "")
    email = settings.contact_email
    contact = (f'email <a href="mailto:{e(email, breakable=False)}">{e(email)}</a>' if email
               else "contact the partnership")
    missing = ""
    if not (settings.contact_email and settings.organisation):
        missing = ('<p class="notice"><strong>Contact details are missing.</strong> The site\u2019s owner '
                   "should add them to <code>report.yml</code> as <code>site: {contact_email: ..., "
                   "organisation: ...}</code> (see docs/configuration.md) and run <code>python pipeline.py "
                   "site</code> to rewrite this statement.</p>")
    body = f"""<h1>Accessibility statement for the annual reviews of {area}</h1>
{missing}
<p>This accessibility statement applies to the safeguarding children partnership annual reviews of {area}{where}:
the list of reviews, each year\u2019s review as a web page and as a PDF, and the data files published with it.</p>
<p>This website is run by {owner}. We want as many people as possible to be able to use it. For example, that
means you should be able to:</p>
<ul>
<li>change colours, contrast levels and fonts using browser or device settings</li>
<li>zoom in up to 400% without the text spilling off the screen</li>
<li>read every page on a phone without scrolling sideways</li>
<li>navigate the website using just a keyboard or speech recognition software</li>
<li>listen to the website using a screen reader</li>
</ul>
<p>We\u2019ve also made the website text as simple as we can to understand.</p>
<h2>How accessible this website is</h2>
<p>We know some parts of this website are not fully accessible:</p>
<ul>
<li>charts are images: each has a text alternative and its figures are in the data files, but a chart cannot
be explored with a screen reader</li>
<li>on a narrow screen, wide tables scroll sideways inside their own box</li>
<li>the PDF is tagged for screen readers (PDF/UA-1) but has not been checked by hand with assistive technology;
the web page has the same content</li>
<li>the data files (CSV and Excel) are tables of figures; their README explains every column</li>
</ul>
<h2>Feedback and contact information</h2>
<p>If you need information on this website in a different format like accessible PDF, large print, easy read,
audio recording or braille, {contact}. We\u2019ll consider your request and get back to you.</p>
<h2>Reporting accessibility problems with this website</h2>
<p>We\u2019re always looking to improve the accessibility of this website. If you find any problems not listed on
this page or think we\u2019re not meeting accessibility requirements, {contact}.</p>
<h2>Enforcement procedure</h2>
<p>{EHRC_TEXT}<a href="https://www.equalityadvisoryservice.com/">Equality Advisory and Support Service
(EASS)</a>.</p>
<p>If you are in Northern Ireland and are not happy with how we respond to your complaint, you can contact the
<a href="https://www.equalityni.org/Home">Equality Commission for Northern Ireland (ECNI)</a>.</p>
<h2>Technical information about this website\u2019s accessibility</h2>
<p>{owner} is committed to making its website accessible, in accordance with the Public Sector Bodies (Websites
and Mobile Applications) (No. 2) Accessibility Regulations 2018.</p>
<h3>Compliance status</h3>
<p>This website is partially compliant with the
<a href="https://www.w3.org/TR/WCAG22/">Web Content Accessibility Guidelines version 2.2</a> AA standard,
due to the non-compliances and known issues listed below.</p>
<h2>Non-accessible content</h2>
<p>The content listed below is non-accessible for the following reasons.</p>
<h3>Non-compliance with the accessibility regulations</h3>
<p>The pages are checked automatically for failures of WCAG 2.2 AA, as described below. Automated checks find
only some kinds of problem and the website has not yet been audited by hand, so until it is we describe it as
partially compliant. The known issues are listed under \u201cHow accessible this website is\u201d.</p>
<h3>Disproportionate burden</h3>
<p>We are not claiming that fixing any problem would be a disproportionate burden.</p>
<h3>Content that\u2019s not within the scope of the accessibility regulations</h3>
<p>None of this website\u2019s content is outside the scope of the regulations.</p>
<h2>What we\u2019re doing to improve accessibility</h2>
<p>Every page is produced by the same pipeline and checked in the same way each time the pipeline changes. We
will fix any problem reported to us and list it here until it is fixed.</p>
<h2>Preparation of this accessibility statement</h2>
<p>This statement was prepared on {e(_date(prepared_on.isoformat()))}.</p>
<p>The pages are tested with automated checks: each kind of page (this list of reviews, this statement and the
annual review) is opened in the Chromium browser at two widths, 390 pixels (a phone) and 1280 pixels (a laptop),
and checked with axe-core for failures of the Web Content Accessibility Guidelines (none serious or critical is
allowed), for images without a text alternative, headings out of order, requests for anything outside the page,
and content wider than the screen. The PDF is produced tagged (PDF/UA-1), with its language set and its fonts
embedded, and checked for its structure tree.</p>"""
    footer = [(INDEX_NAME, "All annual reviews")] + ([(SITEMAP_NAME, "Sitemap")] if sitemap else [])
    return _page(f"Accessibility statement: {settings.area_name} annual reviews", settings, body,
                 footer_links=footer)
