; Inno Setup script: the qsim installer for Windows (x64).
;
; Build the one-folder app first (on Windows, from the repository root):
;   python -m pip install -e ".[package]"
;   set QT_QPA_PLATFORM=offscreen
;   python packaging\make_icons.py build\icons
;   python -m PyInstaller --noconfirm --distpath dist --workpath build\pyinstaller packaging\qsim.spec
; then, with the version from the package metadata (never written here):
;   for /f %v in ('python -c "import qsim; print(qsim.__version__)"') do iscc /DAppVersion=%v packaging\windows\qsim.iss
; Output: dist\qsim-<version>-windows-x64-setup.exe
;
; Installs per user without administrator rights (students' machines), or for
; everyone when started as administrator. The uninstaller removes every file.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z packaging\windows\qsim.iss
#endif
#define Root "..\.."

[Setup]
AppId={{6F0E6C1E-5B7A-4C61-9C6B-7A1D2C9E4B31}
AppName=qsim
AppVersion={#AppVersion}
AppVerName=qsim {#AppVersion}
AppPublisher=qsim developers
AppComments=See Python multiprocessing queues at work: real processes, real queues, animated.
DefaultDirName={autopf}\qsim
DefaultGroupName=qsim
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#Root}\dist
OutputBaseFilename=qsim-{#AppVersion}-windows-x64-setup
SetupIconFile={#Root}\build\icons\qsim.ico
UninstallDisplayIcon={app}\qsim.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern

[Files]
Source: "{#Root}\dist\qsim\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\qsim"; Filename: "{app}\qsim.exe"; Comment: "See Python multiprocessing queues at work"
Name: "{autoprograms}\qsim self-test"; Filename: "{cmd}"; Parameters: "/k ""{app}\qsim-console.exe"" --self-test"; IconFilename: "{app}\qsim.exe"; Comment: "Check that qsim works on this computer"
Name: "{autodesktop}\qsim"; Filename: "{app}\qsim.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Run]
Filename: "{app}\qsim.exe"; Description: "{cm:LaunchProgram,qsim}"; Flags: nowait postinstall skipifsilent
