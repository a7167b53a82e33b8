-- guard.lua: the built-in publisher's last line of defence (see safeguarding/escape.py).
-- Values from the data are escaped before they reach the Markdown; this filter
-- makes sure that nothing in the document, whatever its origin, can embed a
-- file from outside the build or link to a script:
--   * an image must be a file the build wrote under media/ (or a data: URI);
--   * a link must be to a place in the page (#...), or http(s): or mailto:.
-- Anything else stops the build with the offending target named.

local function fail(kind, target)
  error("guard.lua: " .. kind .. " '" .. target:sub(1, 200) .. "' is not allowed in a published report: "
        .. "only images the build saved under media/ and links to http(s), mailto or a place in the page "
        .. "(a value from the data must be escaped: safeguarding.escape.markdown)", 0)
end

function Image(el)
  local src = el.src
  if src:match("^media/[%w._%-]+$") or src:match("^data:image/[%w.+%-]+;base64,") then
    return nil
  end
  fail("image", src)
end

function Link(el)
  local target = el.target
  if target:match("^#") then
    return nil
  end
  local scheme = target:match("^%s*([%a][%w+.%-]*):")
  if scheme then
    scheme = scheme:lower()
    if scheme == "http" or scheme == "https" or scheme == "mailto" then
      return nil
    end
  end
  fail("link", target)
end
