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

-- Layout of the web page (HTML only; the PDF is laid out by the Typst template).

-- A figure drawn twice (attribute narrow=media/...: the same chart sized for a phone) shows the wide
-- image on wide screens and the narrow one on narrow screens (report.css switches them).
local function narrow_images(block)
  return pandoc.walk_block(block, {
    Image = function(img)
      local narrow = img.attributes["narrow"]
      if not narrow then
        return nil
      end
      img.attributes["narrow"] = nil
      if not FORMAT:match("html") then
        img.attributes["narrow-width"] = nil
        return img
      end
      if not narrow:match("^media/[%w._%-]+$") then
        fail("image", narrow)
      end
      local width = img.attributes["narrow-width"]
      img.attributes["narrow-width"] = nil
      local small = img:clone()
      small.src = narrow
      small.identifier = ""
      small.classes = pandoc.List({"fig-narrow"})
      if width and width:match("^%d+$") then
        -- shown at half its pixels (labels about 9 px high); a chart wider than the screen scrolls in its figure
        small.attributes["style"] = "width: " .. width .. "px"
      end
      img.classes:insert("fig-wide")
      return {img, small}
    end,
  })
end

function Figure(el)
  local has_narrow = false
  pandoc.walk_block(el, {Image = function(img) if img.attributes["narrow"] then has_narrow = true end end})
  el = narrow_images(el)
  if has_narrow and FORMAT:match("html") then
    el.attributes["tabindex"] = "0"  -- on a phone a wide chart scrolls in its figure: reachable by keyboard
  end
  return el
end

function Para(el)
  return narrow_images(el)
end

-- Every table scrolls sideways inside its own box, so a wide table never widens the page; the box can
-- take keyboard focus (to scroll it without a mouse) and is named after the table's caption.
function Table(el)
  if not FORMAT:match("html") then
    return nil
  end
  -- a cell holding one figure or period ("1,490", "22.0%", "2024-25") is never broken across lines
  local function mark_rows(rows)
    for _, row in ipairs(rows) do
      for _, cell in ipairs(row.cells) do
        local text = pandoc.utils.stringify(cell.contents)
        if text:match("%d") and not text:match("%s") and #text <= 24 then
          cell.attr.classes:insert("num")
        end
      end
    end
  end
  mark_rows(el.head.rows)
  for _, body in ipairs(el.bodies) do
    mark_rows(body.head)
    mark_rows(body.body)
  end
  mark_rows(el.foot.rows)
  local name = pandoc.utils.stringify(el.caption.long or {})
  -- a list of pairs, not a Lua table keyed by name: a keyed table's order changes from run to run,
  -- and the page must be the same bytes every time it is built from the same data
  local attrs = {{"tabindex", "0"}, {"role", "region"}}
  if name ~= "" then
    table.insert(attrs, {"aria-label", name})
  end
  return pandoc.Div({el}, pandoc.Attr("", {"table-wrap"}, attrs))
end
