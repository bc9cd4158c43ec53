-- Drives Neovim (0.7 and newer) through the README's snippet, headless, as a user would:
-- open each file of the plan, wait for bootlint's diagnostics, note which buffers bootlint
-- attached to; then write a new bootlint.toml and wait for the diagnostics to change.
-- Writes what it saw as JSON to plan.result and quits.
local plan = vim.fn.json_decode(table.concat(vim.fn.readfile(os.getenv('BOOTLINT_TEST_PLAN')), '\n'))

local function clients(buf)
  if vim.lsp.get_clients then return vim.lsp.get_clients({ bufnr = buf }) end
  local out = {}
  for _, c in pairs(vim.lsp.buf_get_clients(buf)) do table.insert(out, c) end
  return out
end

local function seen(buf)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
    table.insert(out, { code or vim.NIL, d.lnum + 1, d.col + 1, d.severity })
  end
  return out
end

local result = { files = {} }
local buffers = {}
for i, file in ipairs(plan.files) do
  vim.cmd('edit ' .. vim.fn.fnameescape(file.path))
  buffers[i] = vim.api.nvim_get_current_buf()
end
for i, file in ipairs(plan.files) do
  local buf = buffers[i]
  if file.attaches then
    vim.wait(plan.wait_ms, function() return #vim.diagnostic.get(buf) > 0 end, 20)
  end
end
vim.wait(500, function() return false end)   -- time for a wrong attach to show
for i, file in ipairs(plan.files) do
  local names = {}
  for _, c in ipairs(clients(buffers[i])) do table.insert(names, c.name) end
  result.files[i] = { path = file.path, clients = names, filetype = vim.bo[buffers[i]].filetype,
                      diagnostics = seen(buffers[i]) }
end

-- A change to the configuration file, with the editor running.
vim.fn.writefile(vim.split(plan.config_text, '\n'), plan.config_path)
local first = buffers[1]
vim.wait(plan.wait_ms, function()
  for _, d in ipairs(seen(first)) do
    if d[1] == plan.gone then return false end
  end
  return true
end, 50)
result.after = seen(first)
vim.fn.writefile({ vim.fn.json_encode(result) }, plan.result)
vim.cmd('qa!')
