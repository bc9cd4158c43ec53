;;; Drives Emacs with eglot through the README's snippet, in batch, as a user would: open each
;;; file of the plan (the command loop's post-command-hook is where eglot-ensure connects), wait
;;; for bootlint's diagnostics in flymake, note which buffers eglot manages; then write a new
;;; bootlint.toml and wait for the diagnostics to change. Writes what it saw as JSON.
(require 'package)
(package-initialize)                    ; Debian's elpa-eglot
(require 'eglot)
(require 'json)
(require 'flymake)
(setq eglot-sync-connect 30)

(defvar bl-plan (let ((json-object-type 'alist) (json-array-type 'list))
                  (json-read-file (getenv "BOOTLINT_TEST_PLAN"))))
(defun bl-get (key alist) (cdr (assq key alist)))

(defun bl-wait (pred seconds)
  (let ((end (+ (float-time) seconds)))
    (while (and (not (funcall pred)) (< (float-time) end))
      (accept-process-output nil 0.05))
    (funcall pred)))

(defun bl-seen (buffer)
  "The diagnostics flymake shows in BUFFER: code, line, column, type (a vector of vectors)."
  (with-current-buffer buffer
    (apply #'vector
           (mapcar (lambda (d)
                     (let ((text (flymake-diagnostic-text d))
                           (beg (flymake-diagnostic-beg d)))
                       (vector (if (string-match "\\[\\(BL[0-9]+\\)\\]" text) (match-string 1 text) :null)
                               (line-number-at-pos beg)
                               (save-excursion (goto-char beg) (1+ (current-column)))
                               (symbol-name (flymake-diagnostic-type d)))))
                   (flymake-diagnostics)))))

(defun bl-fresh (buffer)
  (with-current-buffer buffer
    (when (bound-and-true-p flymake-mode) (flymake-start))
    (bl-seen buffer)))

(let* ((files (bl-get 'files bl-plan))
       (wait (/ (bl-get 'wait_ms bl-plan) 1000.0))
       (buffers (mapcar (lambda (file)
                          (let ((buffer (find-file-noselect (bl-get 'path file))))
                            (with-current-buffer buffer (run-hooks 'post-command-hook))
                            buffer))
                        files))
       result)
  (cl-loop for file in files for buffer in buffers
           when (eq (bl-get 'attaches file) t)
           do (bl-wait (lambda () (> (length (bl-fresh buffer)) 0)) wait))
  (accept-process-output nil 0.5)
  (setq result
        (cl-loop for file in files for buffer in buffers
                 vconcat (list (with-current-buffer buffer
                                 `((path . ,(bl-get 'path file))
                                   (clients . ,(if (eglot-current-server) ["bootlint"] []))
                                   (filetype . ,(symbol-name major-mode))
                                   (diagnostics . ,(bl-fresh buffer)))))))
  (with-temp-file (bl-get 'config_path bl-plan) (insert (bl-get 'config_text bl-plan)))
  (let ((first (car buffers)) (gone (bl-get 'gone bl-plan)))
    (bl-wait (lambda () (let ((now (bl-fresh first)))
                          (and (> (length now) 0)
                               (not (cl-find gone now :key (lambda (d) (aref d 0)) :test #'equal)))))
             wait)
    (with-temp-file (bl-get 'result bl-plan)
      (insert (json-encode `((files . ,result) (after . ,(bl-seen first)))))))
  (kill-emacs 0))
